#include "filter/numeric_columns.h"

#include <algorithm>
#include <cmath>

#include "util/errors.h"

namespace vecindex {

namespace {

template <typename T>
bool is_nan(T value) {
  if constexpr (std::is_floating_point<T>::value) return std::isnan(value);
  return false;
}

// Pending changes are merged once they reach this share of the sorted run (amortised
// O(log n) per set) or this absolute count (keeps small columns exact and cheap).
constexpr size_t kMinPendingBeforeCompact = 4096;
constexpr size_t kPendingShareDivisor = 8;

}  // namespace

template <typename T>
void NumericColumn<T>::resize(size_t slots) {
  values_.resize(slots, T{});
  present_.resize(slots);
}

template <typename T>
void NumericColumn<T>::set(uint32_t slot, T value) {
  if (is_nan(value)) {
    clear(slot);
    return;
  }
  values_[slot] = value;
  present_.set(slot);
  pending_.emplace_back(value, slot);
  ++changes_since_compact_;
  if (changes_since_compact_ > std::max(kMinPendingBeforeCompact, sorted_.size() / kPendingShareDivisor)) compact();
}

template <typename T>
void NumericColumn<T>::clear(uint32_t slot) {
  if (!present_.test(slot)) return;
  present_.reset(slot);
  values_[slot] = T{};
  ++changes_since_compact_;
  if (changes_since_compact_ > std::max(kMinPendingBeforeCompact, sorted_.size() / kPendingShareDivisor)) compact();
}

template <typename T>
std::optional<T> NumericColumn<T>::get(uint32_t slot) const {
  if (!present_.test(slot)) return std::nullopt;
  return values_[slot];
}

template <typename T>
void NumericColumn<T>::compact() {
  if (changes_since_compact_ == 0) return;
  sorted_.clear();
  sorted_.reserve(present_.count());
  present_.for_each([&](uint32_t slot) { sorted_.emplace_back(values_[slot], slot); });
  std::sort(sorted_.begin(), sorted_.end());
  pending_.clear();
  pending_.shrink_to_fit();
  changes_since_compact_ = 0;
}

template <typename T>
void NumericColumn<T>::match_range(ValueRange<T> range, Bitmap& out) const {
  if (is_nan(range.low) || is_nan(range.high) || range.low > range.high) return;
  auto first = std::lower_bound(sorted_.begin(), sorted_.end(), range.low,
                                [](const Entry& entry, T value) { return entry.first < value; });
  auto last = std::upper_bound(first, sorted_.end(), range.high,
                               [](T value, const Entry& entry) { return value < entry.first; });
  auto in_sorted = static_cast<size_t>(last - first);
  // Past ~1/16 of the rows, scanning values in slot order beats scattered bit sets.
  if (in_sorted * 16 > values_.size()) {
    auto& words = out.mutable_words();
    const auto& present = present_.words();
    for (size_t w = 0; w < words.size(); ++w) {
      uint64_t hits = 0;
      size_t base = w * 64;
      size_t end = std::min(values_.size(), base + 64);
      for (size_t slot = base; slot < end; ++slot) {
        T value = values_[slot];
        hits |= uint64_t{value >= range.low && value <= range.high} << (slot - base);
      }
      words[w] |= hits & present[w];
    }
    return;
  }
  for (auto it = first; it != last; ++it)
    if (entry_is_current(*it)) out.set(it->second);
  for (const auto& entry : pending_)
    if (entry.first >= range.low && entry.first <= range.high && entry_is_current(entry)) out.set(entry.second);
}

template <typename T>
void NumericColumn<T>::save(ByteWriter& out) const {
  save_bitmap(out, present_);
  out.put_array(values_.data(), values_.size());
}

template <typename T>
void NumericColumn<T>::load(ByteReader& in, size_t slots) {
  present_ = load_bitmap(in, slots, "number presence");
  values_ = in.get_vector<T>(slots);
  for (size_t slot = 0; slot < slots; ++slot) {
    bool present = present_.test(static_cast<uint32_t>(slot));
    if (present && is_nan(values_[slot])) throw FormatError(in.what() + ": a present number is NaN");
    if (!present) values_[slot] = T{};
  }
  sorted_.clear();
  pending_.clear();
  changes_since_compact_ = 1;
  compact();
}

template <typename T>
size_t NumericColumn<T>::memory_bytes() const {
  return values_.capacity() * sizeof(T) + present_.words().capacity() * 8 +
         (sorted_.capacity() + pending_.capacity()) * sizeof(Entry);
}

template class NumericColumn<int64_t>;
template class NumericColumn<double>;

// ---- BoolColumn --------------------------------------------------------------------

void BoolColumn::resize(size_t slots) {
  present_.resize(slots);
  true_rows_.resize(slots);
}

void BoolColumn::set(uint32_t slot, bool value) {
  present_.set(slot);
  true_rows_.assign(slot, value);
}

void BoolColumn::clear(uint32_t slot) {
  present_.reset(slot);
  true_rows_.reset(slot);
}

std::optional<bool> BoolColumn::get(uint32_t slot) const {
  if (!present_.test(slot)) return std::nullopt;
  return true_rows_.test(slot);
}

void BoolColumn::match_equal(bool value, Bitmap& out) const {
  if (value) {
    out |= true_rows_;
    return;
  }
  Bitmap false_rows = present_;
  false_rows.and_not(true_rows_);
  out |= false_rows;
}

void BoolColumn::save(ByteWriter& out) const {
  save_bitmap(out, present_);
  save_bitmap(out, true_rows_);
}

void BoolColumn::load(ByteReader& in, size_t slots) {
  present_ = load_bitmap(in, slots, "bool presence");
  true_rows_ = load_bitmap(in, slots, "bool values");
  Bitmap stray = true_rows_;
  stray.and_not(present_);
  if (stray.any()) throw FormatError(in.what() + ": a missing bool row is marked true");
}

}  // namespace vecindex
