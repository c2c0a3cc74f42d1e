// A fixed-size set of internal slots, one bit per slot in 64-bit words. Filters compile to
// a Bitmap so the per-candidate check during graph search is a single bit test, and the
// exact match count is a popcount.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/bytes.h"

namespace vecindex {

class Bitmap {
 public:
  Bitmap() = default;
  explicit Bitmap(size_t size, bool value = false);

  size_t size() const { return size_; }
  // Grows or shrinks; new bits are zero. Bits past size() are always kept zero.
  void resize(size_t size);

  bool test(uint32_t slot) const {
    return slot < size_ && ((words_[slot >> 6] >> (slot & 63)) & 1u);
  }
  void set(uint32_t slot) { words_[slot >> 6] |= uint64_t{1} << (slot & 63); }
  void reset(uint32_t slot) { words_[slot >> 6] &= ~(uint64_t{1} << (slot & 63)); }
  void assign(uint32_t slot, bool value) { value ? set(slot) : reset(slot); }

  void fill(bool value);
  size_t count() const;  // popcount over all words
  bool any() const;

  // In-place set algebra; the other bitmap must have the same size.
  Bitmap& operator&=(const Bitmap& other);
  Bitmap& operator|=(const Bitmap& other);
  Bitmap& and_not(const Bitmap& other);  // this & ~other
  void flip();                           // complement within size()

  // Calls visit(slot) for every set bit in increasing order.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (size_t w = 0; w < words_.size(); ++w) {
      uint64_t word = words_[w];
      while (word) {
        visit(static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word))));
        word &= word - 1;
      }
    }
  }
  std::vector<uint32_t> to_slots() const;

  const std::vector<uint64_t>& words() const { return words_; }
  std::vector<uint64_t>& mutable_words() { return words_; }
  // Zeroes the unused high bits of the last word (call after writing words directly).
  void clear_tail();
  // True when no bit past size() is set (used to validate loaded bitmaps).
  bool tail_is_clear() const;

  bool operator==(const Bitmap& other) const { return size_ == other.size_ && words_ == other.words_; }

 private:
  size_t size_ = 0;
  std::vector<uint64_t> words_;
};

// Words only; the size is known from context. load_bitmap checks the length and that no
// bit past `size` is set.
void save_bitmap(ByteWriter& out, const Bitmap& bitmap);
Bitmap load_bitmap(ByteReader& in, size_t size, const char* what);

}  // namespace vecindex
