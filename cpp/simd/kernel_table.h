// The kernel table types and per-ISA getters, with no standard-library includes.
//
// ISA-flagged files (kernels_avx2.cpp, kernels_avx512.cpp, kernels_neon.cpp) include this
// header instead of kernels.h: any inline library function they pulled in would be compiled
// with their ISA flags and could be chosen by the linker for baseline callers (SIGILL on
// older CPUs). kernels.h includes this file, so the public API is unchanged.
#pragma once

#include <stddef.h>

namespace vecindex::simd {

enum class Level : int { scalar = 0, neon = 1, avx2 = 2, avx512 = 3 };

using PairKernel = float (*)(const float* a, const float* b, size_t dim);
// Distances from one query to four vectors at once: keeps several cache misses in flight.
using QuadKernel = void (*)(const float* query, const float* const* vectors, size_t dim, float* out);

struct KernelTable {
  Level level;
  PairKernel l2sq;   // sum (a_i - b_i)^2
  PairKernel dot;    // sum a_i * b_i
  QuadKernel l2sq_x4;
  QuadKernel dot_x4;
};

// Per-ISA tables. Each returns nullptr when that ISA was not compiled into this build.
// Only call the non-scalar getters after checking the CPU (level_supported in kernels.h).
const KernelTable* scalar_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();

}  // namespace vecindex::simd

// Places an ISA kernel in its own ELF section (e.g. "vecindex_isa_avx2") so that even a
// stripped _core.so shows where ISA-flagged code lives; tests/test_portable_build.py checks
// that no AVX instruction appears outside these sections.
#if defined(__ELF__)
#define VECINDEX_ISA_SECTION(isa) __attribute__((section("vecindex_isa_" #isa)))
#else
#define VECINDEX_ISA_SECTION(isa)
#endif
