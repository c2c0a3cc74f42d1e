// Chooses the codec kernel table once, by the rule every family shares (choose_family_level).
#include <stdexcept>

#include "simd/codec_kernels.h"

namespace vecindex::simd {

// Weak fallbacks: a build without an ISA file still links, and reports the level absent.
__attribute__((weak)) const CodecKernelTable* avx2_codec_kernels() { return nullptr; }
__attribute__((weak)) const CodecKernelTable* avx512_codec_kernels() { return nullptr; }
__attribute__((weak)) const CodecKernelTable* neon_codec_kernels() { return nullptr; }

namespace {

const CodecKernelTable* codec_table_pointer(Level level) {
  switch (level) {
    case Level::scalar: return scalar_codec_kernels();
    case Level::avx2: return avx2_codec_kernels();
    case Level::avx512: return avx512_codec_kernels();
    case Level::neon: return neon_codec_kernels();
  }
  return nullptr;
}

const FamilyChoice& codec_choice() {
  static const FamilyChoice choice = choose_family_level("VECINDEX_SIMD_CODEC", codec_supported_levels());
  return choice;
}

}  // namespace

// level_supported already checks every extension the level's files are compiled with
// (simd/cpu_features.h), which covers the codec files' VNNI, VPOPCNTDQ and POPCNT too.
bool codec_level_supported(Level level) {
  return level_supported(level) && codec_table_pointer(level) != nullptr;
}

std::vector<Level> codec_supported_levels() {
  std::vector<Level> levels;
  for (Level level : supported_levels())
    if (codec_level_supported(level)) levels.push_back(level);
  return levels;
}

const CodecKernelTable& active_codec_kernels() {
  static const CodecKernelTable& table = *codec_table_pointer(codec_choice().level);
  return table;
}

std::string codec_override_problem() { return codec_choice().problem; }

const CodecKernelTable& codec_kernels_for(Level level) {
  if (!codec_level_supported(level))
    throw std::invalid_argument("codec kernels for SIMD level '" + level_name(level) +
                                "' are not available on this CPU/build");
  return *codec_table_pointer(level);
}

}  // namespace vecindex::simd
