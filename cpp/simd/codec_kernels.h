// Kernels for compressed vector codes (f16, bf16, sq8, sq4, pq, 1-bit), one table per ISA.
//
// Same rules as the f32 family in simd/kernels.h: each ISA lives in its own translation unit
// (codec_kernels_scalar.cpp, _avx2.cpp, _avx512.cpp, _neon.cpp) compiled with that ISA's flags,
// kernel files hold only kernels, and codec_dispatch.cpp picks one table at first use.
// The level follows the f32 family (active_kernels().level), so VECINDEX_SIMD forces both.
#pragma once

#include <vector>

#include "simd/codec_kernel_table.h"
#include "simd/kernels.h"

namespace vecindex::simd {

// True when the f32 family supports the level (simd::level_supported, which checks every
// extension the level is compiled with) and the build holds codec kernels for it.
bool codec_level_supported(Level level);
std::vector<Level> codec_supported_levels();

// The table matching active_kernels().level, stepping down (avx512 -> avx2 -> scalar) when
// the codec file needs features this CPU lacks. Chosen once; stores resolve it once.
const CodecKernelTable& active_codec_kernels();

// Table for an explicit level (tests); throws std::invalid_argument when unavailable.
const CodecKernelTable& codec_kernels_for(Level level);

}  // namespace vecindex::simd
