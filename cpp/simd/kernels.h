// Distance kernels for f32 vectors, one implementation per ISA, chosen once at import.
//
// Each ISA lives in its own translation unit (kernels_scalar.cpp, kernels_avx2.cpp,
// kernels_avx512.cpp, kernels_neon.cpp) compiled with its own flags; dispatch.cpp reads
// cpuid and fills the active table. Kernel files hold only kernels: no namespace-scope
// objects with constructors and no inline STL, so no ISA-flagged code can be picked up
// by the linker for baseline callers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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
const KernelTable* scalar_kernels();
const KernelTable* avx2_kernels();
const KernelTable* avx512_kernels();
const KernelTable* neon_kernels();

// The table chosen at first use: the best level the CPU supports, or the level forced by
// the VECINDEX_SIMD environment variable (scalar|avx2|avx512|neon). Forcing a level the
// CPU lacks falls back to the best available one rather than crashing with SIGILL.
const KernelTable& active_kernels();

// Table for an explicit level; throws std::invalid_argument if the CPU or build lacks it.
const KernelTable& kernels_for(Level level);

// True when this CPU can run the level and the build contains it.
bool level_supported(Level level);
std::vector<Level> supported_levels();
std::string level_name(Level level);
Level parse_level(const std::string& name);  // throws std::invalid_argument

}  // namespace vecindex::simd
