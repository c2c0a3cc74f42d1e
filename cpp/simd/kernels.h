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

// The table chosen at first use, by choose_family_level with VECINDEX_SIMD_F32.
const KernelTable& active_kernels();

// How each kernel family (f32, codec, Chamfer) picks its level, once: the level named by the
// family's own variable (VECINDEX_SIMD_F32, VECINDEX_SIMD_CODEC, VECINDEX_SIMD_CHAMFER), else
// by VECINDEX_SIMD, else the best level. A named level the family lacks on this CPU or build
// falls back to its best level (family_levels.back(); the list is ascending) rather than
// crashing with SIGILL. An unknown name is ignored, and `problem` says so ("" otherwise).
struct FamilyChoice {
  Level level;
  std::string problem;
};
FamilyChoice choose_family_level(const char* family_variable, const std::vector<Level>& family_levels);

// Table for an explicit level; throws std::invalid_argument if the CPU or build lacks it.
const KernelTable& kernels_for(Level level);

// True when this CPU can run the level and the build contains it.
bool level_supported(Level level);
std::vector<Level> supported_levels();
std::string level_name(Level level);
Level parse_level(const std::string& name);  // throws std::invalid_argument

}  // namespace vecindex::simd
