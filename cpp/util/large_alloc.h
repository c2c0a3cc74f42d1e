// Allocation for the index's big arrays (vectors, codes, level-0 links). Random access over
// hundreds of MB misses the TLB on almost every hop with 4 KiB pages, and under a hypervisor
// each miss is a two-dimensional page walk. Large blocks are therefore aligned to 2 MiB and
// advised toward transparent huge pages: madvise() rejects an address that is not
// page-aligned, so a plain 64-byte aligned block never received the advice.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace vecindex {

constexpr size_t kCacheLine = 64;
constexpr size_t kHugePage = size_t(2) << 20;
// Below this a huge page would mostly hold padding.
constexpr size_t kHugePageMinBytes = size_t(4) << 20;

// At least `bytes` (> 0), 64-byte aligned, uninitialised; release with std::free. Throws
// std::bad_alloc. Sets *capacity to the usable size, which may exceed `bytes`.
inline void* allocate_large(size_t bytes, size_t* capacity) {
  bool huge = bytes >= kHugePageMinBytes;
  size_t align = huge ? kHugePage : kCacheLine;
  if (bytes > SIZE_MAX - align) throw std::bad_alloc();
  size_t rounded = (bytes + align - 1) / align * align;
  void* block = std::aligned_alloc(align, rounded);
  if (!block) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: a kernel without THP refuses it and the block works with small pages.
  if (huge) madvise(block, rounded, MADV_HUGEPAGE);
#endif
  *capacity = rounded;
  return block;
}

}  // namespace vecindex
