// String keys of an index built with keys="str": each key maps to an internal int64 id that
// the rest of the index (id map, graph, attributes) uses unchanged. Ids are handed out by the
// index; a key keeps its id after a delete, so re-adding it works exactly like re-adding an
// int id (adds in flight, replaces and deletes race the same way). compact() forgets the keys
// whose ids are gone. Not thread safe on its own: Index calls it under structure_mutex_.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/bytes.h"

namespace vecindex {

// Longest key, in bytes of UTF-8.
constexpr size_t kMaxKeyBytes = 1024;

// Keys a caller passes in: non-empty, at most kMaxKeyBytes of valid UTF-8. With
// `unique`, no key may repeat (add). Throws InvalidArgument naming the offending keys.
void check_keys(const std::vector<std::string>& keys, bool unique);

// "'a', 'b', ... (12 in all)": the first ten keys, each cut to 64 bytes, for error messages.
std::string list_keys(const std::vector<std::string>& keys);

// The KEYS file section: u64 count, u64 offsets[count + 1] (from 0, rising, the last one is
// the byte total), then the keys' UTF-8 bytes back to back. One key per live vector, in slot order.
void save_keys(ByteWriter& out, const std::vector<const std::string*>& keys);
// Reads and checks a KEYS section that must hold `count` keys: the offsets fit the section
// before anything is allocated for them, every key is non-empty, at most kMaxKeyBytes, valid
// UTF-8, and none repeats. Throws FormatError.
std::vector<std::string> load_keys(ByteReader& in, uint64_t count);

class KeyTable {
 public:
  // The key's id, or -1 when the table does not hold it.
  int64_t find(const std::string& key) const;
  // The key of an id the table holds (undefined for other ids).
  const std::string& key_of(int64_t id) const { return *by_id_[size_t(id)]; }
  bool holds_id(int64_t id) const { return id >= 0 && size_t(id) < by_id_.size() && by_id_[size_t(id)]; }
  // Maps a new key to a new id (neither may be in the table yet).
  void insert(std::string key, int64_t id);
  void erase_id(int64_t id);
  size_t size() const { return by_key_.size(); }
  // Estimated heap bytes: hash nodes and buckets, key bytes beyond the inline buffer, id slots.
  size_t memory_bytes() const;

 private:
  std::unordered_map<std::string, int64_t> by_key_;
  // Internal ids are small and dense (handed out in order), so a vector indexes them; the
  // pointers name by_key_'s node-owned strings, which never move.
  std::vector<const std::string*> by_id_;
  size_t heap_key_bytes_ = 0;  // bytes of keys too long for the string's inline buffer
};

}  // namespace vecindex
