// Kernels for compressed vector codes (f16, bf16, sq8, sq4, pq, 1-bit), one table per ISA.
//
// Same rules as the f32 family in simd/kernels.h: each ISA lives in its own translation unit
// (codec_kernels_scalar.cpp, _avx2.cpp, _avx512.cpp, _neon.cpp) compiled with that ISA's flags,
// kernel files hold only kernels, and codec_dispatch.cpp picks one table at first use, by
// choose_family_level (simd/kernels.h): VECINDEX_SIMD_CODEC, else VECINDEX_SIMD, else the best.
#pragma once

#include <string>
#include <vector>

#include "simd/codec_kernel_table.h"
#include "simd/kernels.h"

namespace vecindex::simd {

// True when the f32 family supports the level (simd::level_supported, which checks every
// extension the level is compiled with) and the build holds codec kernels for it.
bool codec_level_supported(Level level);
std::vector<Level> codec_supported_levels();

// The table of the family's chosen level. Chosen once; stores resolve it once.
const CodecKernelTable& active_codec_kernels();

// Why VECINDEX_SIMD_CODEC was ignored, or "".
std::string codec_override_problem();

// Table for an explicit level (tests); throws std::invalid_argument when unavailable.
const CodecKernelTable& codec_kernels_for(Level level);

}  // namespace vecindex::simd
