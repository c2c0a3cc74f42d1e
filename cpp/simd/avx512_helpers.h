// Always-inlined AVX-512 helpers shared by the *_avx512.cpp kernel files, which are the only
// includers (this header needs their compile flags). Nothing here is ever emitted out of
// line, so no AVX-512 code can land outside the kernels' ISA sections.
#pragma once

#include <immintrin.h>
#include <stddef.h>

#define VECINDEX_AVX512_HELPER inline __attribute__((always_inline))

namespace vecindex::simd::avx512_helpers {
namespace {

// The first min(remaining, 16) lanes. Masked-out lanes load as zero and never fault, so a tail
// next to an unmapped page is safe.
VECINDEX_AVX512_HELPER __mmask16 tail_mask16(size_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << remaining) - 1u);
}

VECINDEX_AVX512_HELPER __mmask32 tail_mask32(size_t remaining) {
  return remaining >= 32 ? static_cast<__mmask32>(0xffffffffu) : static_cast<__mmask32>((1u << remaining) - 1u);
}

// Lane j of the result is the sum of the lanes of s_j: one combined reduction, like the AVX2
// kernels' hadd fold, instead of four _mm512_reduce_add_ps that each pay a full shuffle chain.
// Unpacking pairs interleaves the four vectors inside each 128-bit lane, leaving each lane as
// partial sums [s0 s1 s2 s3]; the four 128-bit lanes are then added together.
VECINDEX_AVX512_HELPER __m128 horizontal_sum4(__m512 s0, __m512 s1, __m512 s2, __m512 s3) {
  __m512 t01 = _mm512_add_ps(_mm512_unpacklo_ps(s0, s1), _mm512_unpackhi_ps(s0, s1));
  __m512 t23 = _mm512_add_ps(_mm512_unpacklo_ps(s2, s3), _mm512_unpackhi_ps(s2, s3));
  __m512d low = _mm512_unpacklo_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23));
  __m512d high = _mm512_unpackhi_pd(_mm512_castps_pd(t01), _mm512_castps_pd(t23));
  __m512 sums = _mm512_add_ps(_mm512_castpd_ps(low), _mm512_castpd_ps(high));
  __m256 half = _mm256_add_ps(_mm512_castps512_ps256(sums), _mm512_extractf32x8_ps(sums, 1));
  return _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
}

// The same fold for int32 lanes (exact, so the order does not matter).
VECINDEX_AVX512_HELPER __m128i horizontal_sum4_epi32(__m512i s0, __m512i s1, __m512i s2, __m512i s3) {
  __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(s0, s1), _mm512_unpackhi_epi32(s0, s1));
  __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(s2, s3), _mm512_unpackhi_epi32(s2, s3));
  __m512i sums = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
  __m256i half = _mm256_add_epi32(_mm512_castsi512_si256(sums), _mm512_extracti64x4_epi64(sums, 1));
  return _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
}

}  // namespace
}  // namespace vecindex::simd::avx512_helpers
