// Number and bool attribute columns. Numbers keep a value array plus a sorted (value,
// slot) run for ranges: a narrow range costs two binary searches plus its matches; a broad
// range is a sequential scan of the value array, which is cheaper than random bit sets.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "filter/bitmap.h"
#include "util/bytes.h"

namespace vecindex {

// A closed interval [low, high]; every comparison (<, <=, ==, between, ...) is turned into
// one of these by the filter compiler, so the column needs a single range primitive.
template <typename T>
struct ValueRange {
  T low;
  T high;
};

// T is int64_t or double. NaN is stored as missing, so present values are totally ordered.
template <typename T>
class NumericColumn {
 public:
  void resize(size_t slots);
  void set(uint32_t slot, T value);
  void clear(uint32_t slot);
  std::optional<T> get(uint32_t slot) const;
  const Bitmap& present() const { return present_; }

  void match_range(ValueRange<T> range, Bitmap& out) const;  // ORs matches into out
  // Sorts pending changes into the range run; the store calls it after a batch of sets.
  void compact();

  void save(ByteWriter& out) const;
  void load(ByteReader& in, size_t slots);
  size_t memory_bytes() const;

 private:
  using Entry = std::pair<T, uint32_t>;
  bool entry_is_current(const Entry& entry) const {
    return present_.test(entry.second) && values_[entry.second] == entry.first;
  }

  std::vector<T> values_;
  Bitmap present_;
  // Sorted run plus an unsorted tail of recent sets. Entries whose slot changed since are
  // stale and skipped by checking the slot's current value; compact() drops them.
  std::vector<Entry> sorted_;
  std::vector<Entry> pending_;
  size_t changes_since_compact_ = 0;
};

using IntColumn = NumericColumn<int64_t>;
using FloatColumn = NumericColumn<double>;

class BoolColumn {
 public:
  void resize(size_t slots);
  void set(uint32_t slot, bool value);
  void clear(uint32_t slot);
  std::optional<bool> get(uint32_t slot) const;
  const Bitmap& present() const { return present_; }
  const Bitmap& true_rows() const { return true_rows_; }

  void match_equal(bool value, Bitmap& out) const;  // ORs matches into out

  void save(ByteWriter& out) const;
  void load(ByteReader& in, size_t slots);
  size_t memory_bytes() const { return 2 * present_.words().capacity() * 8; }

 private:
  Bitmap present_;
  Bitmap true_rows_;
};

}  // namespace vecindex
