// String attribute columns. Strings are dictionary-encoded (one uint32 code per distinct
// value) and every code keeps a sorted posting list of the slots holding it, so `==`,
// `isin` and `contains_*` cost O(matches) instead of O(rows).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "filter/bitmap.h"
#include "util/bytes.h"

namespace vecindex {

// Distinct strings of one column. Codes are never reused, so a code stays valid for the
// lifetime of the column even when no row holds it any more.
class KeywordDictionary {
 public:
  static constexpr uint32_t kNotFound = UINT32_MAX;
  uint32_t find(const std::string& value) const;
  uint32_t intern(const std::string& value);
  const std::string& value(uint32_t code) const { return values_[code]; }
  size_t size() const { return values_.size(); }
  void save(ByteWriter& out) const;
  void load(ByteReader& in);  // rejects duplicates
  size_t memory_bytes() const;

 private:
  std::vector<std::string> values_;
  std::unordered_map<std::string, uint32_t> codes_;
};

// Per code, the sorted slots that hold it. Appends in slot order are O(1); removals and
// out-of-order inserts pay a binary search plus a shift within one list.
class PostingLists {
 public:
  void add(uint32_t code, uint32_t slot);
  void remove(uint32_t code, uint32_t slot);
  void mark(uint32_t code, Bitmap& out) const;  // sets the bit of every slot in the list
  size_t list_size(uint32_t code) const { return code < lists_.size() ? lists_[code].size() : 0; }
  const std::vector<uint32_t>* list(uint32_t code) const { return code < lists_.size() ? &lists_[code] : nullptr; }
  void clear() { lists_.clear(); }
  size_t memory_bytes() const;

 private:
  std::vector<std::vector<uint32_t>> lists_;
};

// One optional string per row.
class KeywordColumn {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;
  void resize(size_t slots);
  void set(uint32_t slot, const std::string& value);
  void clear(uint32_t slot);
  std::optional<std::string> get(uint32_t slot) const;
  const Bitmap& present() const { return present_; }

  void match_equal(const std::string& value, Bitmap& out) const;  // ORs matches into out
  size_t count_equal(const std::string& value) const;

  void save(ByteWriter& out) const;
  void load(ByteReader& in, size_t slots);
  size_t memory_bytes() const;

 private:
  KeywordDictionary dictionary_;
  std::vector<uint32_t> codes_;
  PostingLists postings_;
  Bitmap present_;
};

// An optional set of strings per row (an empty set is present, not missing).
class KeywordsColumn {
 public:
  void resize(size_t slots);
  void set(uint32_t slot, const std::vector<std::string>& values);  // duplicates collapse
  void clear(uint32_t slot);
  std::optional<std::vector<std::string>> get(uint32_t slot) const;
  const Bitmap& present() const { return present_; }

  void match_any(const std::vector<std::string>& values, Bitmap& out) const;  // ORs matches into out
  // Rows whose set holds every value; an empty list matches every present row.
  void match_all(const std::vector<std::string>& values, Bitmap& out) const;

  void save(ByteWriter& out) const;
  void load(ByteReader& in, size_t slots);
  size_t memory_bytes() const;

 private:
  KeywordDictionary dictionary_;
  std::vector<std::vector<uint32_t>> row_codes_;  // sorted, unique codes per row
  PostingLists postings_;
  Bitmap present_;
};

}  // namespace vecindex
