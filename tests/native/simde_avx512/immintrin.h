// Stands in for <immintrin.h> when tests/test_avx512_emulated.py compiles the *_avx512.cpp kernel
// files for a CPU without AVX-512: SIMDe (libsimde-dev) implements the AVX-512 intrinsics in
// portable code, so the kernels' own source runs, lane by lane, on any x86-64 machine.
// No emulator runs AVX-512 here: QEMU's TCG has none, and Intel SDE is not in any registry.
//
// SIMDe 0.7.4 lacks some intrinsics the kernels use; they are written below from Intel's
// definitions, one lane at a time. Masked loads read only the lanes their mask selects, as the
// hardware's fault suppression promises, so a kernel that relied on reading past a buffer would
// be caught by the harness's guard pages.
#pragma once

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>

#include <cstdint>
#include <cstring>

typedef simde__mmask8 __mmask8;
typedef simde__mmask16 __mmask16;
typedef simde__mmask32 __mmask32;
typedef simde__mmask64 __mmask64;

namespace simde_avx512_shim {

template <class Lane, int N, class Vector>
inline void unpack(const Vector& v, Lane (&lanes)[N]) {
  static_assert(sizeof(Vector) == sizeof(lanes), "lane count");
  std::memcpy(lanes, &v, sizeof lanes);
}

template <class Vector, class Lane, int N>
inline Vector pack(const Lane (&lanes)[N]) {
  static_assert(sizeof(Vector) == sizeof(lanes), "lane count");
  Vector v;
  std::memcpy(&v, lanes, sizeof lanes);
  return v;
}

// Reads lane i from p only when bit i of mask is set; other lanes are zero.
template <class Vector, class Lane, int N>
inline Vector masked_load(uint64_t mask, const void* p) {
  Lane lanes[N] = {};
  const auto* bytes = static_cast<const unsigned char*>(p);
  for (int i = 0; i < N; ++i)
    if ((mask >> i) & 1u) std::memcpy(&lanes[i], bytes + i * sizeof(Lane), sizeof(Lane));
  return pack<Vector>(lanes);
}

template <class Out, class OutLane, class In, class InLane, int N>
inline Out widen(const In& v) {
  InLane in[N];
  std::memcpy(in, &v, sizeof in);
  OutLane out[N];
  for (int i = 0; i < N; ++i) out[i] = static_cast<OutLane>(in[i]);
  return pack<Out>(out);
}

template <class Lane, int N, class Vector>
inline Lane lane_sum(const Vector& v) {
  Lane lanes[N];
  unpack(v, lanes);
  // Pairwise halving, the order of the usual shuffle-based reductions.
  for (int width = N / 2; width >= 1; width /= 2)
    for (int i = 0; i < width; ++i) lanes[i] = static_cast<Lane>(lanes[i] + lanes[i + width]);
  return lanes[0];
}

template <class Lane, int N, class Vector>
inline Lane lane_min(const Vector& v) {
  Lane lanes[N];
  unpack(v, lanes);
  Lane best = lanes[0];
  for (int i = 1; i < N; ++i)
    if (lanes[i] < best) best = lanes[i];
  return best;
}

}  // namespace simde_avx512_shim

namespace shim = simde_avx512_shim;

inline __m512 _mm512_maskz_loadu_ps(__mmask16 k, const void* p) { return shim::masked_load<__m512, float, 16>(k, p); }
inline __m512i _mm512_maskz_loadu_epi16(__mmask32 k, const void* p) {
  return shim::masked_load<__m512i, int16_t, 32>(k, p);
}
inline __m512i _mm512_maskz_loadu_epi64(__mmask8 k, const void* p) {
  return shim::masked_load<__m512i, int64_t, 8>(k, p);
}
inline __m512i _mm512_maskz_loadu_epi8(__mmask64 k, const void* p) {
  return shim::masked_load<__m512i, int8_t, 64>(k, p);
}
inline __m256i _mm256_maskz_loadu_epi16(__mmask16 k, const void* p) {
  return shim::masked_load<__m256i, int16_t, 16>(k, p);
}
inline __m256i _mm256_maskz_loadu_epi8(__mmask32 k, const void* p) {
  return shim::masked_load<__m256i, int8_t, 32>(k, p);
}
inline __m128i _mm_maskz_loadu_epi8(__mmask16 k, const void* p) { return shim::masked_load<__m128i, int8_t, 16>(k, p); }

inline void _mm512_mask_storeu_ps(void* p, __mmask16 k, __m512 v) {
  float lanes[16];
  shim::unpack(v, lanes);
  for (int i = 0; i < 16; ++i)
    if ((k >> i) & 1u) std::memcpy(static_cast<char*>(p) + 4 * i, &lanes[i], 4);
}

inline __m512 _mm512_cvtepi32_ps(__m512i v) { return shim::widen<__m512, float, __m512i, int32_t, 16>(v); }
inline __m512i _mm512_cvtepu16_epi32(__m256i v) { return shim::widen<__m512i, int32_t, __m256i, uint16_t, 16>(v); }
inline __m512i _mm512_cvtepu8_epi16(__m256i v) { return shim::widen<__m512i, int16_t, __m256i, uint8_t, 32>(v); }
inline __m512i _mm512_cvtepu8_epi32(__m128i v) { return shim::widen<__m512i, int32_t, __m128i, uint8_t, 16>(v); }

inline __m512 _mm512_cvtph_ps(__m256i halves) {
  __m128i parts[2];
  std::memcpy(parts, &halves, sizeof parts);
  __m256 wide[2] = {simde_mm256_cvtph_ps(parts[0]), simde_mm256_cvtph_ps(parts[1])};
  __m512 out;
  std::memcpy(&out, wide, sizeof out);
  return out;
}

inline __m256 _mm512_extractf32x8_ps(__m512 v, int half) {
  __m256 halves[2];
  std::memcpy(halves, &v, sizeof halves);
  return halves[half & 1];
}

inline __mmask16 _mm512_mask_cmp_ps_mask(__mmask16 k, __m512 a, __m512 b, int predicate) {
  return static_cast<__mmask16>(k & simde_mm512_cmp_ps_mask(a, b, predicate));
}

inline __m512 _mm512_mask_i32gather_ps(__m512 src, __mmask16 k, __m512i index, const void* base, int scale) {
  float lanes[16];
  int32_t offsets[16];
  shim::unpack(src, lanes);
  shim::unpack(index, offsets);
  for (int i = 0; i < 16; ++i)
    if ((k >> i) & 1u)
      std::memcpy(&lanes[i], static_cast<const char*>(base) + static_cast<int64_t>(offsets[i]) * scale, 4);
  return shim::pack<__m512>(lanes);
}

inline float _mm512_reduce_add_ps(__m512 v) { return shim::lane_sum<float, 16>(v); }
inline int _mm512_reduce_add_epi32(__m512i v) {
  return static_cast<int>(shim::lane_sum<uint32_t, 16>(v));  // wraps like the hardware's adds
}
inline long long _mm512_reduce_add_epi64(__m512i v) { return static_cast<long long>(shim::lane_sum<uint64_t, 8>(v)); }
inline float _mm512_reduce_min_ps(__m512 v) { return shim::lane_min<float, 16>(v); }
inline unsigned int _mm512_reduce_min_epu32(__m512i v) { return shim::lane_min<uint32_t, 16>(v); }
