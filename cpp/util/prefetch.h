// Software prefetch that the compiler must keep. GCC 12 deletes __builtin_prefetch calls it
// finds in a loop with no other effect: HnswGraph::prefetch_neighbors compiled to nothing, in
// every caller, so the walk missed on each expanded node's link list (20% of a search on a
// 300k index, perf). An asm statement is never removed.
#pragma once

namespace vecindex {

inline __attribute__((always_inline)) void prefetch_line(const void* address) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(address)));
#elif defined(__aarch64__)
  asm volatile("prfm pldl1keep, %0" : : "Q"(*static_cast<const char*>(address)));
#else
  __builtin_prefetch(address, 0, 3);
#endif
}

}  // namespace vecindex
