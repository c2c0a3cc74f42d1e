#include "index/key_table.h"

#include <string_view>
#include <unordered_set>

#include "filter/utf8.h"
#include "util/errors.h"

namespace vecindex {
namespace {

// Bytes a std::string keeps outside itself for a key of this length (0 while it fits inline).
size_t outside_bytes(const std::string& key) {
  return key.capacity() > std::string().capacity() ? key.capacity() + 1 : 0;
}

// Cuts at most 64 bytes without splitting a UTF-8 sequence.
std::string shortened(const std::string& key) {
  if (key.size() <= 64) return key;
  size_t cut = 64;
  while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
  return key.substr(0, cut) + "...";
}

}  // namespace

std::string list_keys(const std::vector<std::string>& keys) {
  std::string text;
  for (size_t i = 0; i < keys.size() && i < 10; ++i) text += (i ? ", '" : "'") + shortened(keys[i]) + "'";
  if (keys.size() > 10) text += ", ... (" + std::to_string(keys.size()) + " in all)";
  return text;
}

void check_keys(const std::vector<std::string>& keys, bool unique) {
  std::vector<std::string> too_long, repeated;
  std::unordered_set<std::string> seen;
  if (unique) seen.reserve(keys.size() * 2);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    if (key.empty()) throw InvalidArgument("keys must not be empty (key " + std::to_string(i) + " is '')");
    if (key.size() > kMaxKeyBytes) too_long.push_back(key);
    else if (!is_valid_utf8(key)) throw InvalidArgument("key " + std::to_string(i) + " is not valid UTF-8");
    else if (unique && !seen.insert(key).second) repeated.push_back(key);
  }
  if (!too_long.empty())
    throw InvalidArgument("keys must be at most " + std::to_string(kMaxKeyBytes) + " bytes of UTF-8; too long: " +
                          list_keys(too_long));
  if (!repeated.empty()) throw InvalidArgument("keys repeat within one add(): " + list_keys(repeated));
}

void save_keys(ByteWriter& out, const std::vector<const std::string*>& keys) {
  out.put<uint64_t>(keys.size());
  uint64_t offset = 0;
  out.put<uint64_t>(offset);
  for (const std::string* key : keys) out.put<uint64_t>(offset += key->size());
  for (const std::string* key : keys) out.put_array(key->data(), key->size());
}

std::vector<std::string> load_keys(ByteReader& in, uint64_t count) {
  if (in.get<uint64_t>() != count) throw FormatError("'KEYS' section does not hold one key per live vector");
  // Each key needs its offset and at least one byte (count <= 2^32, so this cannot overflow).
  if ((count + 1) * sizeof(uint64_t) + count > in.remaining())
    throw FormatError("'KEYS' section (" + std::to_string(in.remaining()) + " bytes left) is too short for " +
                      std::to_string(count) + " keys");
  std::vector<uint64_t> offsets = in.get_vector<uint64_t>(size_t(count) + 1);
  if (offsets[0] != 0 || offsets[size_t(count)] != in.remaining())
    throw FormatError("'KEYS' section offsets do not cover its key bytes");
  std::vector<std::string> keys{size_t(count)};
  std::unordered_set<std::string_view> seen;
  seen.reserve(size_t(count) * 2);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (offsets[i + 1] <= offsets[i] || offsets[i + 1] - offsets[i] > kMaxKeyBytes)
      throw FormatError("'KEYS' section: key " + std::to_string(i) + " is empty or longer than " +
                        std::to_string(kMaxKeyBytes) + " bytes");
    keys[i].resize(size_t(offsets[i + 1] - offsets[i]));
    in.get_array(keys[i].data(), keys[i].size());
    if (!is_valid_utf8(keys[i])) throw FormatError("'KEYS' section: key " + std::to_string(i) + " is not valid UTF-8");
  }
  for (const std::string& key : keys)
    if (!seen.insert(key).second) throw FormatError("'KEYS' section: key '" + shortened(key) + "' appears twice");
  return keys;
}

int64_t KeyTable::find(const std::string& key) const {
  auto found = by_key_.find(key);
  return found == by_key_.end() ? -1 : found->second;
}

void KeyTable::insert(std::string key, int64_t id) {
  auto [it, inserted] = by_key_.emplace(std::move(key), id);
  if (!inserted) throw std::logic_error("key table: key inserted twice");
  if (size_t(id) >= by_id_.size()) by_id_.resize(size_t(id) + 1, nullptr);
  by_id_[size_t(id)] = &it->first;
  heap_key_bytes_ += outside_bytes(it->first);
}

void KeyTable::erase_id(int64_t id) {
  if (!holds_id(id)) return;
  auto found = by_key_.find(*by_id_[size_t(id)]);
  heap_key_bytes_ -= outside_bytes(found->first);
  by_id_[size_t(id)] = nullptr;
  by_key_.erase(found);
}

size_t KeyTable::memory_bytes() const {
  // A node holds the next pointer, the pair and the cached hash, rounded up by the allocator.
  constexpr size_t node = (sizeof(void*) + sizeof(std::pair<const std::string, int64_t>) + sizeof(size_t) + 15) / 16 * 16;
  return by_key_.size() * node + by_key_.bucket_count() * sizeof(void*) + heap_key_bytes_ +
         by_id_.capacity() * sizeof(const std::string*);
}

}  // namespace vecindex
