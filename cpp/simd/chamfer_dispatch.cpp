// Chooses the Chamfer kernel table once, by the rule every family shares (choose_family_level).
#include <stdexcept>

#include "simd/chamfer_kernels.h"

namespace vecindex::simd {

// Weak fallbacks: a build without an ISA file still links, and reports the level absent.
__attribute__((weak)) const ChamferKernelTable* avx2_chamfer_kernels() { return nullptr; }
__attribute__((weak)) const ChamferKernelTable* avx512_chamfer_kernels() { return nullptr; }
__attribute__((weak)) const ChamferKernelTable* neon_chamfer_kernels() { return nullptr; }

namespace {

const ChamferKernelTable* chamfer_table_pointer(Level level) {
  switch (level) {
    case Level::scalar: return scalar_chamfer_kernels();
    case Level::avx2: return avx2_chamfer_kernels();
    case Level::avx512: return avx512_chamfer_kernels();
    case Level::neon: return neon_chamfer_kernels();
  }
  return nullptr;
}

const FamilyChoice& chamfer_choice() {
  static const FamilyChoice choice = choose_family_level("VECINDEX_SIMD_CHAMFER", chamfer_supported_levels());
  return choice;
}

}  // namespace

// level_supported() checks cpuid before any ISA getter runs.
bool chamfer_level_supported(Level level) {
  return level_supported(level) && chamfer_table_pointer(level) != nullptr;
}

std::vector<Level> chamfer_supported_levels() {
  std::vector<Level> levels;
  for (Level level : supported_levels())
    if (chamfer_level_supported(level)) levels.push_back(level);
  return levels;
}

const ChamferKernelTable& active_chamfer_kernels() {
  static const ChamferKernelTable& table = *chamfer_table_pointer(chamfer_choice().level);
  return table;
}

std::string chamfer_override_problem() { return chamfer_choice().problem; }

const ChamferKernelTable& chamfer_kernels_for(Level level) {
  if (!chamfer_level_supported(level))
    throw std::invalid_argument("Chamfer kernels for SIMD level '" + level_name(level) +
                                "' are not available on this CPU/build");
  return *chamfer_table_pointer(level);
}

}  // namespace vecindex::simd
