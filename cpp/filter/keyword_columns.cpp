#include "filter/keyword_columns.h"

#include <algorithm>

#include "filter/utf8.h"
#include "util/errors.h"

namespace vecindex {

// ---- KeywordDictionary -------------------------------------------------------------

uint32_t KeywordDictionary::find(const std::string& value) const {
  auto it = codes_.find(value);
  return it == codes_.end() ? kNotFound : it->second;
}

uint32_t KeywordDictionary::intern(const std::string& value) {
  auto it = codes_.find(value);
  if (it != codes_.end()) return it->second;
  if (values_.size() >= kNotFound - 1) throw InvalidArgument("too many distinct keyword values in one column");
  auto code = static_cast<uint32_t>(values_.size());
  values_.push_back(value);
  codes_.emplace(value, code);
  return code;
}

void KeywordDictionary::save(ByteWriter& out) const {
  out.put<uint64_t>(values_.size());
  for (const auto& value : values_) out.put_string(value);
}

void KeywordDictionary::load(ByteReader& in) {
  auto count = in.get<uint64_t>();
  // Each string needs at least its 8-byte length, so this bounds the count before any allocation.
  if (count > in.remaining() / 8) throw FormatError(in.what() + ": keyword dictionary declares too many values");
  values_.clear();
  codes_.clear();
  for (uint64_t i = 0; i < count; ++i) {
    std::string value = in.get_string();
    if (!is_valid_utf8(value)) throw FormatError(in.what() + ": keyword value is not valid UTF-8");
    if (codes_.count(value)) throw FormatError(in.what() + ": keyword dictionary holds a value twice");
    codes_.emplace(value, static_cast<uint32_t>(values_.size()));
    values_.push_back(std::move(value));
  }
}

size_t KeywordDictionary::memory_bytes() const {
  size_t total = values_.capacity() * sizeof(std::string) * 2;
  for (const auto& value : values_) total += 2 * value.capacity();
  return total;
}

// ---- PostingLists ------------------------------------------------------------------

void PostingLists::add(uint32_t code, uint32_t slot) {
  if (code >= lists_.size()) lists_.resize(size_t{code} + 1);
  auto& list = lists_[code];
  if (list.empty() || list.back() < slot) {
    list.push_back(slot);
    return;
  }
  auto it = std::lower_bound(list.begin(), list.end(), slot);
  if (it == list.end() || *it != slot) list.insert(it, slot);
}

void PostingLists::remove(uint32_t code, uint32_t slot) {
  if (code >= lists_.size()) return;
  auto& list = lists_[code];
  auto it = std::lower_bound(list.begin(), list.end(), slot);
  if (it != list.end() && *it == slot) list.erase(it);
}

void PostingLists::mark(uint32_t code, Bitmap& out) const {
  if (code >= lists_.size()) return;
  for (uint32_t slot : lists_[code]) out.set(slot);
}

size_t PostingLists::memory_bytes() const {
  size_t total = lists_.capacity() * sizeof(lists_[0]);
  for (const auto& list : lists_) total += list.capacity() * sizeof(uint32_t);
  return total;
}

// ---- KeywordColumn -----------------------------------------------------------------

void KeywordColumn::resize(size_t slots) {
  codes_.resize(slots, kMissing);
  present_.resize(slots);
}

void KeywordColumn::set(uint32_t slot, const std::string& value) {
  clear(slot);
  uint32_t code = dictionary_.intern(value);
  codes_[slot] = code;
  postings_.add(code, slot);
  present_.set(slot);
}

void KeywordColumn::clear(uint32_t slot) {
  uint32_t code = codes_[slot];
  if (code == kMissing) return;
  postings_.remove(code, slot);
  codes_[slot] = kMissing;
  present_.reset(slot);
}

std::optional<std::string> KeywordColumn::get(uint32_t slot) const {
  uint32_t code = codes_[slot];
  if (code == kMissing) return std::nullopt;
  return dictionary_.value(code);
}

void KeywordColumn::match_equal(const std::string& value, Bitmap& out) const {
  uint32_t code = dictionary_.find(value);
  if (code != KeywordDictionary::kNotFound) postings_.mark(code, out);
}

size_t KeywordColumn::count_equal(const std::string& value) const {
  uint32_t code = dictionary_.find(value);
  return code == KeywordDictionary::kNotFound ? 0 : postings_.list_size(code);
}

void KeywordColumn::save(ByteWriter& out) const {
  dictionary_.save(out);
  out.put_array(codes_.data(), codes_.size());
}

void KeywordColumn::load(ByteReader& in, size_t slots) {
  dictionary_.load(in);
  codes_ = in.get_vector<uint32_t>(slots);
  postings_.clear();
  present_ = Bitmap(slots);
  for (size_t slot = 0; slot < slots; ++slot) {
    uint32_t code = codes_[slot];
    if (code == kMissing) continue;
    if (code >= dictionary_.size()) throw FormatError(in.what() + ": keyword code out of range");
    postings_.add(code, static_cast<uint32_t>(slot));
    present_.set(static_cast<uint32_t>(slot));
  }
}

size_t KeywordColumn::memory_bytes() const {
  return dictionary_.memory_bytes() + codes_.capacity() * sizeof(uint32_t) + postings_.memory_bytes() +
         present_.words().capacity() * 8;
}

// ---- KeywordsColumn ----------------------------------------------------------------

void KeywordsColumn::resize(size_t slots) {
  row_codes_.resize(slots);
  present_.resize(slots);
}

void KeywordsColumn::set(uint32_t slot, const std::vector<std::string>& values) {
  clear(slot);
  std::vector<uint32_t> codes;
  codes.reserve(values.size());
  for (const auto& value : values) codes.push_back(dictionary_.intern(value));
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  for (uint32_t code : codes) postings_.add(code, slot);
  row_codes_[slot] = std::move(codes);
  present_.set(slot);
}

void KeywordsColumn::clear(uint32_t slot) {
  if (!present_.test(slot)) return;
  for (uint32_t code : row_codes_[slot]) postings_.remove(code, slot);
  row_codes_[slot].clear();
  row_codes_[slot].shrink_to_fit();
  present_.reset(slot);
}

std::optional<std::vector<std::string>> KeywordsColumn::get(uint32_t slot) const {
  if (!present_.test(slot)) return std::nullopt;
  std::vector<std::string> values;
  for (uint32_t code : row_codes_[slot]) values.push_back(dictionary_.value(code));
  return values;
}

void KeywordsColumn::match_any(const std::vector<std::string>& values, Bitmap& out) const {
  for (const auto& value : values) {
    uint32_t code = dictionary_.find(value);
    if (code != KeywordDictionary::kNotFound) postings_.mark(code, out);
  }
}

void KeywordsColumn::match_all(const std::vector<std::string>& values, Bitmap& out) const {
  if (values.empty()) {
    out |= present_;
    return;
  }
  // Walk the shortest posting list and check each of its rows holds the other codes.
  std::vector<uint32_t> codes;
  for (const auto& value : values) {
    uint32_t code = dictionary_.find(value);
    if (code == KeywordDictionary::kNotFound) return;
    codes.push_back(code);
  }
  std::sort(codes.begin(), codes.end(), [&](uint32_t a, uint32_t b) { return postings_.list_size(a) < postings_.list_size(b); });
  const auto* shortest = postings_.list(codes[0]);
  if (shortest == nullptr) return;
  for (uint32_t slot : *shortest) {
    const auto& row = row_codes_[slot];
    bool all = true;
    for (size_t i = 1; i < codes.size() && all; ++i) all = std::binary_search(row.begin(), row.end(), codes[i]);
    if (all) out.set(slot);
  }
}

void KeywordsColumn::save(ByteWriter& out) const {
  dictionary_.save(out);
  save_bitmap(out, present_);
  for (size_t slot = 0; slot < row_codes_.size(); ++slot) out.put<uint32_t>(static_cast<uint32_t>(row_codes_[slot].size()));
  for (const auto& row : row_codes_) out.put_array(row.data(), row.size());
}

void KeywordsColumn::load(ByteReader& in, size_t slots) {
  dictionary_.load(in);
  present_ = load_bitmap(in, slots, "keywords presence");
  auto counts = in.get_vector<uint32_t>(slots);
  postings_.clear();
  row_codes_.assign(slots, {});
  for (size_t slot = 0; slot < slots; ++slot) {
    if (counts[slot] != 0 && !present_.test(static_cast<uint32_t>(slot)))
      throw FormatError(in.what() + ": a missing keywords row holds values");
    auto codes = in.get_vector<uint32_t>(counts[slot]);
    for (size_t i = 0; i < codes.size(); ++i) {
      if (codes[i] >= dictionary_.size()) throw FormatError(in.what() + ": keywords code out of range");
      if (i > 0 && codes[i] <= codes[i - 1]) throw FormatError(in.what() + ": keywords row is not sorted and unique");
      postings_.add(codes[i], static_cast<uint32_t>(slot));
    }
    row_codes_[slot] = std::move(codes);
  }
}

size_t KeywordsColumn::memory_bytes() const {
  size_t total = dictionary_.memory_bytes() + postings_.memory_bytes() + present_.words().capacity() * 8;
  total += row_codes_.capacity() * sizeof(row_codes_[0]);
  for (const auto& row : row_codes_) total += row.capacity() * sizeof(uint32_t);
  return total;
}

}  // namespace vecindex
