// Visited sets that reset in O(1): each mark stores the epoch it was set in, so a new search
// only bumps the epoch. Each SearchContext (search_context.h) owns one.
#pragma once

#include <cstdint>
#include <algorithm>
#include <vector>

#include "util/prefetch.h"

namespace vecindex {

class VisitedSet {
 public:
  void prepare(size_t capacity) {
    if (marks_.size() < capacity) marks_.assign(capacity, 0), epoch_ = 0;
    if (++epoch_ == 0) {  // wrapped: old marks could alias the new epoch
      std::fill(marks_.begin(), marks_.end(), 0);
      epoch_ = 1;
    }
  }
  bool test_and_set(uint32_t slot) {
    if (marks_[slot] == epoch_) return true;
    marks_[slot] = epoch_;
    return false;
  }
  // Marks every slot in `slots` and copies those not marked before to `fresh`, in order;
  // returns how many. Without a branch per slot: whether a neighbour was seen is a coin flip
  // to the branch predictor.
  size_t mark_fresh(const uint32_t* slots, size_t count, uint32_t* fresh) {
    size_t fresh_count = 0;
    for (size_t i = 0; i < count; ++i) {
      uint16_t& mark = marks_[slots[i]];
      const bool seen = mark == epoch_;
      mark = epoch_;
      fresh[fresh_count] = slots[i];
      fresh_count += seen ? 0 : 1;
    }
    return fresh_count;
  }
  bool test(uint32_t slot) const { return marks_[slot] == epoch_; }
  void prefetch(uint32_t slot) const { prefetch_line(&marks_[slot]); }

 private:
  std::vector<uint16_t> marks_;
  uint16_t epoch_ = 0;
};

}  // namespace vecindex
