// Reads cpuid, and holds the one rule by which every kernel family (f32 here, codec and
// Chamfer in their own dispatch files) chooses its level from the environment.
#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "simd/cpu_features.h"
#include "simd/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace vecindex::simd {

// Weak fallbacks: a build without an ISA file still links, and reports the level absent.
__attribute__((weak)) const KernelTable* avx2_kernels() { return nullptr; }
__attribute__((weak)) const KernelTable* avx512_kernels() { return nullptr; }
__attribute__((weak)) const KernelTable* neon_kernels() { return nullptr; }

namespace {

enum class Word { leaf1_ecx, leaf7_ebx, leaf7_ecx, xcr0 };

struct Feature {
  const char* name;
  Word word;
  unsigned bit;
};

// VECINDEX_AVX2_FLAGS: -mavx2 (which implies AVX and SSE3..SSE4.2) -mfma -mf16c -mpopcnt
// -mbmi2, and the OS must save XMM and YMM registers on context switches.
constexpr Feature kAvx2Features[] = {
    {"sse3", Word::leaf1_ecx, 0},     {"ssse3", Word::leaf1_ecx, 9}, {"sse4.1", Word::leaf1_ecx, 19},
    {"sse4.2", Word::leaf1_ecx, 20},  {"popcnt", Word::leaf1_ecx, 23}, {"avx", Word::leaf1_ecx, 28},
    {"fma", Word::leaf1_ecx, 12},     {"f16c", Word::leaf1_ecx, 29},  {"avx2", Word::leaf7_ebx, 5},
    {"bmi2", Word::leaf7_ebx, 8},     {"os_xmm", Word::xcr0, 1},      {"os_ymm", Word::xcr0, 2},
};

// VECINDEX_AVX512_FLAGS adds these to the AVX2 set; the OS must also save the opmask
// registers and all 32 ZMM registers.
constexpr Feature kAvx512Features[] = {
    {"avx512f", Word::leaf7_ebx, 16},     {"avx512dq", Word::leaf7_ebx, 17},
    {"avx512bw", Word::leaf7_ebx, 30},    {"avx512vl", Word::leaf7_ebx, 31},
    {"avx512vnni", Word::leaf7_ecx, 11},  {"avx512vpopcntdq", Word::leaf7_ecx, 14},
    {"os_opmask", Word::xcr0, 5},         {"os_zmm_hi256", Word::xcr0, 6},
    {"os_hi16_zmm", Word::xcr0, 7},
};

bool has(const CpuidWords& words, const Feature& feature) {
  uint64_t value = 0;
  switch (feature.word) {
    case Word::leaf1_ecx: value = words.leaf1_ecx; break;
    case Word::leaf7_ebx: value = words.leaf7_ebx; break;
    case Word::leaf7_ecx: value = words.leaf7_ecx; break;
    case Word::xcr0: value = words.xcr0; break;
  }
  return (value >> feature.bit) & 1u;
}

template <size_t N>
void append_names(const Feature (&features)[N], std::vector<std::string>& out) {
  for (const Feature& feature : features) out.emplace_back(feature.name);
}

template <size_t N>
void append_missing(const Feature (&features)[N], const CpuidWords& words, std::vector<std::string>& out) {
  for (const Feature& feature : features)
    if (!has(words, feature)) out.emplace_back(feature.name);
}

#if defined(__x86_64__) || defined(__i386__)
constexpr bool kX86 = true;
#else
constexpr bool kX86 = false;
#endif
#if defined(__aarch64__)
constexpr bool kAarch64 = true;
#else
constexpr bool kAarch64 = false;
#endif

const CpuidWords& this_cpu() {
  static const CpuidWords words = read_cpuid();
  return words;
}

bool cpu_has(Level level) { return missing_features(level, this_cpu()).empty(); }

const KernelTable* table_pointer(Level level) {
  switch (level) {
    case Level::scalar: return scalar_kernels();
    case Level::avx2: return avx2_kernels();
    case Level::avx512: return avx512_kernels();
    case Level::neon: return neon_kernels();
  }
  return nullptr;
}

bool is_set(const char* value) { return value != nullptr && *value != '\0'; }

bool try_parse_level(const char* name, Level* level) {
  try {
    *level = parse_level(name);
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

constexpr const char* kGlobalVariable = "VECINDEX_SIMD";
constexpr const char* kValidValues = " is not a SIMD level and was ignored (valid values: scalar, neon, avx2, avx512)";

const FamilyChoice& f32_choice() {
  static const FamilyChoice choice = choose_family_level("VECINDEX_SIMD_F32", supported_levels());
  return choice;
}

}  // namespace

CpuidWords read_cpuid() {
  CpuidWords words;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf >= 1) {
    __cpuid(1, eax, ebx, ecx, edx);
    words.leaf1_ecx = ecx;
  }
  if (max_leaf >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    words.leaf7_ebx = ebx;
    words.leaf7_ecx = ecx;
  }
  constexpr unsigned kOsxsaveBit = 27;  // the OS enabled XSAVE, so xgetbv may be executed
  if ((words.leaf1_ecx >> kOsxsaveBit) & 1u) {
    unsigned low = 0, high = 0;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));  // needs no -mxsave
    words.xcr0 = (static_cast<uint64_t>(high) << 32) | low;
  }
#endif
  return words;
}

std::vector<std::string> required_features(Level level) {
  std::vector<std::string> names;
  if (level == Level::avx2 || level == Level::avx512) append_names(kAvx2Features, names);
  if (level == Level::avx512) append_names(kAvx512Features, names);
  if (level == Level::neon) names.emplace_back("neon");
  return names;
}

std::vector<std::string> missing_features(Level level, const CpuidWords& words) {
  std::vector<std::string> missing;
  switch (level) {
    case Level::scalar:
      break;
    case Level::avx2:
    case Level::avx512:
      if (!kX86) return required_features(level);
      append_missing(kAvx2Features, words, missing);
      if (level == Level::avx512) append_missing(kAvx512Features, words, missing);
      break;
    case Level::neon:
      if (!kAarch64) missing.emplace_back("neon");  // every AArch64 CPU has Advanced SIMD
      break;
  }
  return missing;
}

FamilyChoice choose_family_level(const char* family_variable, const std::vector<Level>& family_levels) {
  FamilyChoice choice{family_levels.empty() ? Level::scalar : family_levels.back(), ""};
  const char* family_value = std::getenv(family_variable);
  const char* global_value = std::getenv(kGlobalVariable);
  Level wanted = Level::scalar;
  // Failing the import over a typo would be worse than running at the best level.
  bool family_known = is_set(family_value) && try_parse_level(family_value, &wanted);
  bool forced = family_known || (is_set(global_value) && try_parse_level(global_value, &wanted));
  // A known level this CPU or build lacks falls back to the family's best one, as documented.
  if (forced && std::find(family_levels.begin(), family_levels.end(), wanted) != family_levels.end())
    choice.level = wanted;
  if (is_set(family_value) && !family_known)
    choice.problem = std::string(family_variable) + "='" + family_value + "'" + kValidValues + "; using " +
                     level_name(choice.level);
  return choice;
}

std::string simd_override_problem() {
  const char* value = std::getenv(kGlobalVariable);
  Level ignored;
  if (!is_set(value) || try_parse_level(value, &ignored)) return "";
  return std::string(kGlobalVariable) + "='" + value + "'" + kValidValues +
         "; each kernel family runs at its best level unless its own VECINDEX_SIMD_<FAMILY> names one";
}

std::string f32_override_problem() { return f32_choice().problem; }

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
  static const KernelTable& table = *table_pointer(f32_choice().level);
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
