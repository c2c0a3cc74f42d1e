// What each SIMD level needs from the CPU and the operating system (implemented in
// dispatch.cpp, which is the only caller outside tests).
//
// A level may run only if the CPU has every extension its files are compiled with
// (VECINDEX_AVX2_FLAGS / VECINDEX_AVX512_FLAGS in CMakeLists.txt: the compiler may use any
// of them anywhere in those files) and the OS saves the register state those extensions
// use (XCR0: YMM for AVX, opmask and ZMM for AVX-512). The decision is a pure function of
// the raw cpuid/xgetbv words, so tests can feed it any CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simd/kernel_table.h"

namespace vecindex::simd {

struct CpuidWords {
  uint32_t leaf1_ecx = 0;  // cpuid(eax=1).ecx
  uint32_t leaf7_ebx = 0;  // cpuid(eax=7, ecx=0).ebx
  uint32_t leaf7_ecx = 0;  // cpuid(eax=7, ecx=0).ecx
  uint64_t xcr0 = 0;       // xgetbv(0); 0 when the OS has not enabled XSAVE (OSXSAVE clear)
};

// This CPU's words (all zero off x86).
CpuidWords read_cpuid();

// Feature names the level checks, in a fixed order: CPU extensions by their compiler flag
// name without "-m" (avx2, fma, ...), OS state as "os_..." (os_ymm, os_zmm, ...).
std::vector<std::string> required_features(Level level);

// The required features that `words` lacks; empty means the level can run. Non-x86 levels
// are judged by the architecture this was compiled for, not by `words`.
std::vector<std::string> missing_features(Level level, const CpuidWords& words);

// Why the VECINDEX_SIMD override was ignored ("" when it was unset, empty or a known
// level name).
std::string simd_override_problem();

// Why VECINDEX_SIMD_F32 was ignored, or "" (the codec and Chamfer families have their own).
std::string f32_override_problem();

}  // namespace vecindex::simd
