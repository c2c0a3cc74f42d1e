// Chooses the codec kernel table once, following the f32 family's level (simd/kernels.h).
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

Level step_down(Level level) {
  return level == Level::avx512 ? Level::avx2 : Level::scalar;
}

const CodecKernelTable& choose_active() {
  Level level = active_kernels().level;
  while (level != Level::scalar && !codec_level_supported(level)) level = step_down(level);
  return *codec_table_pointer(level);
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
  static const CodecKernelTable& table = choose_active();
  return table;
}

const CodecKernelTable& codec_kernels_for(Level level) {
  if (!codec_level_supported(level))
    throw std::invalid_argument("codec kernels for SIMD level '" + level_name(level) +
                                "' are not available on this CPU/build");
  return *codec_table_pointer(level);
}

}  // namespace vecindex::simd
