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

#include "simd/kernel_table.h"

namespace vecindex::simd {

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
