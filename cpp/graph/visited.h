// The visited set of one walk: one bit per slot, cleared by zeroing only the words the last
// walk touched. Each SearchContext (search_context.h) owns one.
//
// Why bits: a walk tests a mark for every neighbour of every expanded node, at random slots.
// With one uint16_t epoch per slot (reset in O(1) by bumping the epoch) the marks of a 1M-row
// index take 2 MB, more than the L2 cache and on 4 KiB pages; perf on an sq4 search at 1M
// (ef 128) put about half of the walk loop's samples on that load. As bits the same marks
// take 125 KB. The reset then costs one store per touched word, a small part of the walk
// that touched it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "util/prefetch.h"

namespace vecindex {

class VisitedSet {
 public:
  // Clears every mark; grows to hold `capacity` slots.
  void prepare(size_t capacity) {
    const size_t words = (capacity + 63) / 64;
    if (words_.size() < words) {
      words_.assign(words, 0);
      touched_.assign(words + 1, 0);  // + 1: mark() writes one entry past the count
      touched_count_ = 0;
      return;
    }
    if (touched_count_ * 4 > words_.size()) {
      std::memset(words_.data(), 0, words_.size() * sizeof(uint64_t));
    } else {
      for (size_t i = 0; i < touched_count_; ++i) words_[touched_[i]] = 0;
    }
    touched_count_ = 0;
  }
  bool test_and_set(uint32_t slot) { return mark(slot); }
  // Marks every slot in `slots` and copies those not marked before to `fresh`, in order;
  // returns how many. Without a branch per slot: whether a neighbour was seen is a coin flip
  // to the branch predictor.
  size_t mark_fresh(const uint32_t* slots, size_t count, uint32_t* fresh) {
    size_t fresh_count = 0;
    for (size_t i = 0; i < count; ++i) {
      const bool seen = mark(slots[i]);
      fresh[fresh_count] = slots[i];
      fresh_count += seen ? 0 : 1;
    }
    return fresh_count;
  }
  void prefetch(uint32_t slot) const { prefetch_line(&words_[slot >> 6]); }

 private:
  // Sets the mark and returns whether it was set before. A word's index is recorded when it
  // goes from zero to non-zero, so each word appears at most once in touched_, which holds
  // one entry per word and a spare for the unconditional write.
  bool mark(uint32_t slot) {
    uint64_t& word = words_[slot >> 6];
    const uint64_t old = word;
    const uint64_t bit = uint64_t(1) << (slot & 63);
    word = old | bit;
    touched_[touched_count_] = uint32_t(slot >> 6);
    touched_count_ += old == 0 ? 1 : 0;
    return (old & bit) != 0;
  }

  std::vector<uint64_t> words_;
  std::vector<uint32_t> touched_;
  size_t touched_count_ = 0;
};

}  // namespace vecindex
