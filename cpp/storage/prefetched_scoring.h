// Scores a batch of slots in order while the codes a few slots ahead are already being
// fetched, so each code's cache misses overlap with the arithmetic on the earlier ones.
// Measured on the Debian set (sq8, 388-byte codes): requesting 6 ahead, with the first 6
// up front, cut search time ~10-15% against 2 ahead without the up-front requests.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecindex {

template <size_t Ahead, class Prefetch, class Score>
inline void score_prefetched(const uint32_t* slots, size_t count, float* out, Prefetch prefetch, Score score) {
  for (size_t i = 0; i < count && i < Ahead; ++i) prefetch(slots[i]);
  for (size_t i = 0; i < count; ++i) {
    if (i + Ahead < count) prefetch(slots[i + Ahead]);
    out[i] = score(slots[i]);
  }
}

// The same in groups of four for a kernel scoring four codes at once; the last count % 4
// slots go one by one.
template <size_t Ahead, class Prefetch, class ScoreFour, class Score>
inline void score_prefetched_x4(const uint32_t* slots, size_t count, float* out, Prefetch prefetch,
                                ScoreFour score_four, Score score) {
  for (size_t i = 0; i < count && i < Ahead; ++i) prefetch(slots[i]);
  size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    for (size_t p = i + Ahead; p < count && p < i + Ahead + 4; ++p) prefetch(slots[p]);
    score_four(slots + i, out + i);
  }
  for (; i < count; ++i) out[i] = score(slots[i]);
}

}  // namespace vecindex
