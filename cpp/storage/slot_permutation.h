// A renumbering of the first `size()` slots of an index, applied in place to every array
// indexed by slot. Everything that can allocate or fail happens in the constructor; applying
// it afterwards allocates nothing and cannot throw, so an index can stage every fallible step
// before it changes anything, then apply the permutation to each part in turn.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "util/errors.h"

namespace vecindex {

class SlotPermutation {
 public:
  // order[new_slot] = old_slot; it must hold each of 0 .. order.size()-1 exactly once.
  explicit SlotPermutation(std::vector<uint32_t> order) : old_of_new_(std::move(order)) {
    const size_t count = old_of_new_.size();
    new_of_old_.assign(count, kUnset);
    for (size_t slot = 0; slot < count; ++slot) {
      const uint32_t old = old_of_new_[slot];
      if (old >= count || new_of_old_[old] != kUnset)
        throw InvalidArgument("a slot order must name every slot exactly once");
      new_of_old_[old] = uint32_t(slot);
    }
    // One leader per cycle of length > 1: applying walks each cycle once, swapping rows.
    std::vector<uint8_t> seen(count, 0);
    for (size_t slot = 0; slot < count; ++slot) {
      if (seen[slot] || old_of_new_[slot] == slot) continue;
      leaders_.push_back(uint32_t(slot));
      for (uint32_t at = uint32_t(slot); !seen[at]; at = old_of_new_[at]) seen[at] = 1;
    }
  }

  size_t size() const { return old_of_new_.size(); }
  bool is_identity() const { return leaders_.empty(); }
  uint32_t new_slot(uint32_t old_slot) const { return new_of_old_[old_slot]; }
  uint32_t old_slot(uint32_t new_slot) const { return old_of_new_[new_slot]; }
  // Renames a stored slot; slots past size() (and markers such as "none") pass unchanged.
  uint32_t rename(uint32_t slot) const { return slot < new_of_old_.size() ? new_of_old_[slot] : slot; }

  // Moves element old to position new_slot(old) for every slot, with swap(a, b) exchanging
  // the elements at positions a and b.
  template <typename Swap>
  void apply(Swap&& swap) const noexcept {
    for (uint32_t leader : leaders_) {
      // Position `at` takes the element from old_slot(at); that position still holds its
      // original element, and the leader's element travels along the cycle until it lands.
      uint32_t at = leader;
      while (old_of_new_[at] != leader) {
        swap(at, old_of_new_[at]);
        at = old_of_new_[at];
      }
    }
  }

  // Permutes fixed-size rows of `stride` bytes starting at `base`, in place.
  void apply_rows(uint8_t* base, size_t stride) const noexcept {
    apply([&](uint32_t a, uint32_t b) { swap_bytes(base + size_t(a) * stride, base + size_t(b) * stride, stride); });
  }

  template <typename T>
  void apply_to(std::vector<T>& values) const noexcept {
    apply([&](uint32_t a, uint32_t b) { std::swap(values[a], values[b]); });
  }

 private:
  static constexpr uint32_t kUnset = 0xFFFFFFFFu;
  static void swap_bytes(uint8_t* a, uint8_t* b, size_t bytes) noexcept {
    uint8_t chunk[256];
    for (size_t done = 0; done < bytes; done += sizeof chunk) {
      const size_t part = std::min(sizeof chunk, bytes - done);
      std::memcpy(chunk, a + done, part);
      std::memcpy(a + done, b + done, part);
      std::memcpy(b + done, chunk, part);
    }
  }

  std::vector<uint32_t> old_of_new_;
  std::vector<uint32_t> new_of_old_;
  std::vector<uint32_t> leaders_;
};

}  // namespace vecindex
