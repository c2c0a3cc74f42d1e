// Exact Chamfer similarity between two sets of f32 vectors, one implementation per ISA.
//
// Same rules as simd/kernels.h: each ISA lives in its own translation unit
// (chamfer_kernels_scalar.cpp, _avx2.cpp, _avx512.cpp, _neon.cpp) compiled with that ISA's
// flags, and chamfer_dispatch.cpp picks one table at first use, following the level of the
// f32 family (so VECINDEX_SIMD forces it too).
#pragma once

#include <string>
#include <vector>

#include "simd/chamfer_kernel_table.h"
#include "simd/kernels.h"

namespace vecindex::simd {

bool chamfer_level_supported(Level level);
std::vector<Level> chamfer_supported_levels();

// The table of the family's chosen level. Chosen once.
const ChamferKernelTable& active_chamfer_kernels();

// Why VECINDEX_SIMD_CHAMFER was ignored, or "".
std::string chamfer_override_problem();

// Table for an explicit level (tests); throws std::invalid_argument when unavailable.
const ChamferKernelTable& chamfer_kernels_for(Level level);

}  // namespace vecindex::simd
