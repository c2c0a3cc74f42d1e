// Chooses the kernel table once, from cpuid and the VECINDEX_SIMD override.
#include <cstdlib>
#include <stdexcept>

#include "simd/kernels.h"

namespace vecindex::simd {

// Weak fallbacks: a build without an ISA file still links, and reports the level absent.
__attribute__((weak)) const KernelTable* avx2_kernels() { return nullptr; }
__attribute__((weak)) const KernelTable* avx512_kernels() { return nullptr; }
__attribute__((weak)) const KernelTable* neon_kernels() { return nullptr; }

namespace {

bool cpu_has(Level level) {
  switch (level) {
    case Level::scalar:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case Level::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Level::avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    case Level::neon:
      return false;
#elif defined(__aarch64__)
    case Level::neon:
      return true;
    default:
      return false;
#else
    default:
      return false;
#endif
  }
  return false;
}

const KernelTable* table_pointer(Level level) {
  switch (level) {
    case Level::scalar: return scalar_kernels();
    case Level::avx2: return avx2_kernels();
    case Level::avx512: return avx512_kernels();
    case Level::neon: return neon_kernels();
  }
  return nullptr;
}

const KernelTable& choose_active() {
  if (const char* forced = std::getenv("VECINDEX_SIMD")) {
    try {
      Level wanted = parse_level(forced);
      if (level_supported(wanted)) return *table_pointer(wanted);
    } catch (const std::invalid_argument&) {
      // An unknown name falls through to the best level rather than failing the import.
    }
  }
  const KernelTable* best = scalar_kernels();
  for (Level level : supported_levels()) best = table_pointer(level);
  return *best;
}

}  // namespace

// cpuid first: an ISA file's getter is compiled with that ISA's flags, so it is only called
// once the CPU is known to run it.
bool level_supported(Level level) { return cpu_has(level) && table_pointer(level) != nullptr; }

std::vector<Level> supported_levels() {
  std::vector<Level> levels;
  for (Level level : {Level::scalar, Level::neon, Level::avx2, Level::avx512})
    if (level_supported(level)) levels.push_back(level);
  return levels;
}

const KernelTable& kernels_for(Level level) {
  if (!level_supported(level))
    throw std::invalid_argument("SIMD level '" + level_name(level) + "' is not available on this CPU/build");
  return *table_pointer(level);
}

const KernelTable& active_kernels() {
  static const KernelTable& table = choose_active();
  return table;
}

std::string level_name(Level level) {
  switch (level) {
    case Level::scalar: return "scalar";
    case Level::neon: return "neon";
    case Level::avx2: return "avx2";
    case Level::avx512: return "avx512";
  }
  return "unknown";
}

Level parse_level(const std::string& name) {
  if (name == "scalar") return Level::scalar;
  if (name == "neon") return Level::neon;
  if (name == "avx2") return Level::avx2;
  if (name == "avx512") return Level::avx512;
  throw std::invalid_argument("unknown SIMD level '" + name + "'; expected scalar, neon, avx2 or avx512");
}

}  // namespace vecindex::simd
