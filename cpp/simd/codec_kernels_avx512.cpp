// AVX-512 (F/BW/VL/DQ + VPOPCNTDQ + VNNI) codec kernels. Compiled with those flags for this file
// only; codec_dispatch.cpp hands them out only after cpuid confirmed every feature used here.
// Each kernel keeps its AVX2 counterpart's accumulator chains and four-row structure at twice the
// width (keep them in step); tails use masked loads instead of scalar loops.
#include <immintrin.h>

#include "simd/avx512_helpers.h"
#include "simd/codec_kernel_table.h"

namespace vecindex::simd {
namespace {

using avx512_helpers::horizontal_sum4_epi32;
using avx512_helpers::tail_mask16;
using avx512_helpers::tail_mask32;

inline __attribute__((always_inline)) __m512 load_f16(const uint16_t* x, __mmask16 mask) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, x));
}

inline __attribute__((always_inline)) __m512 load_bf16(const uint16_t* x, __mmask16 mask) {
  __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mask, x));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

template <__m512 (*Load)(const uint16_t*, __mmask16)>
inline __attribute__((always_inline)) float half_dot(const float* q, const uint16_t* x, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), Load(x + i, 0xffff), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), Load(x + i + 16, 0xffff), acc1);
  }
  for (; i < dim; i += 16) {
    __mmask16 mask = tail_mask16(dim - i);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, q + i), Load(x + i, mask), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <__m512 (*Load)(const uint16_t*, __mmask16)>
inline __attribute__((always_inline)) float half_l2sq(const float* q, const uint16_t* x, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + i), Load(x + i, 0xffff));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + i + 16), Load(x + i + 16, 0xffff));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  for (; i < dim; i += 16) {
    __mmask16 mask = tail_mask16(dim - i);
    __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, q + i), Load(x + i, mask));
    acc0 = _mm512_fmadd_ps(d, d, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// Concrete kernels: a template instance would ignore the section attribute.
VECINDEX_ISA_SECTION(avx512) float f16_dot_avx512(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_f16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx512) float f16_l2sq_avx512(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_f16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx512) float bf16_dot_avx512(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_bf16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx512) float bf16_l2sq_avx512(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_bf16>(q, x, dim);
}

VECINDEX_ISA_SECTION(avx512) float weighted_bytes_avx512(const float* w, const uint8_t* codes, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i))));
    __m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i + 16))));
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), c0, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), c1, acc1);
  }
  for (; i < dim; i += 16) {
    __mmask16 mask = tail_mask16(dim - i);
    __m512 c = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, codes + i)));
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w + i), c, acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// 32 codes widened to 16 bits; the masked form reads only the first lanes of a tail.
inline __attribute__((always_inline)) __m512i widen_bytes(const uint8_t* codes) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
}
inline __attribute__((always_inline)) __m512i widen_bytes(const uint8_t* codes, __mmask32 mask) {
  return _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, codes));
}

// Codes widened to 16 bits, then VNNI's vpdpwssd: 32 pairwise int16 products and their int32
// accumulation in one instruction. Two chains over 64 codes a step, as the AVX2 kernel runs two
// over 32; the tail is masked rather than scalar.
VECINDEX_ISA_SECTION(avx512) int32_t weighted_bytes_i16_avx512(const int16_t* w, const uint8_t* codes, size_t dim) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    acc0 = _mm512_dpwssd_epi32(acc0, widen_bytes(codes + i), _mm512_loadu_si512(w + i));
    acc1 = _mm512_dpwssd_epi32(acc1, widen_bytes(codes + i + 32), _mm512_loadu_si512(w + i + 32));
  }
  for (; i < dim; i += 32) {
    __mmask32 mask = tail_mask32(dim - i);
    acc0 = _mm512_dpwssd_epi32(acc0, widen_bytes(codes + i, mask), _mm512_maskz_loadu_epi16(mask, w + i));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

// Four rows per pass over the weights, one chain per row and one combined reduction, like the
// AVX2 kernel; the tail is masked.
VECINDEX_ISA_SECTION(avx512) void weighted_bytes_i16_x4_avx512(const int16_t* w, const uint8_t* const* codes,
                                                               size_t dim, int32_t* out) {
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  __m512i a2 = _mm512_setzero_si512(), a3 = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512i weights = _mm512_loadu_si512(w + i);
    a0 = _mm512_dpwssd_epi32(a0, widen_bytes(c0 + i), weights);
    a1 = _mm512_dpwssd_epi32(a1, widen_bytes(c1 + i), weights);
    a2 = _mm512_dpwssd_epi32(a2, widen_bytes(c2 + i), weights);
    a3 = _mm512_dpwssd_epi32(a3, widen_bytes(c3 + i), weights);
  }
  if (i < dim) {
    __mmask32 mask = tail_mask32(dim - i);
    __m512i weights = _mm512_maskz_loadu_epi16(mask, w + i);
    a0 = _mm512_dpwssd_epi32(a0, widen_bytes(c0 + i, mask), weights);
    a1 = _mm512_dpwssd_epi32(a1, widen_bytes(c1 + i, mask), weights);
    a2 = _mm512_dpwssd_epi32(a2, widen_bytes(c2 + i, mask), weights);
    a3 = _mm512_dpwssd_epi32(a3, widen_bytes(c3 + i, mask), weights);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), horizontal_sum4_epi32(a0, a1, a2, a3));
}

// A block's low nibbles are its dimensions 0..15 and its high nibbles 16..31. Two blocks (32
// bytes) are widened to 16-bit lanes in one vpmovzxbw: masking gives dimensions 0..15 of both
// blocks, shifting gives 16..31 of both, and the weights are rearranged to match with one
// 128-bit lane shuffle each (shared by the four rows of the x4 kernel). Widening one block into
// both halves of a register instead took two shuffle-port operations a block, and Intel has one
// such port: sq4 searches ran 0.93-0.96x the AVX2 codec kernel's speed on a Xeon that way.
struct NibblePairWeights {
  // low: the weights of dimensions 0..15 of block b, then of block b+1; high: of 16..31 of each.
  __m512i low, high;
};

inline __attribute__((always_inline)) NibblePairWeights pair_weights(const int16_t* w) {
  const __m512i first = _mm512_loadu_si512(w), second = _mm512_loadu_si512(w + 32);
  return {_mm512_shuffle_i32x4(first, second, _MM_SHUFFLE(1, 0, 1, 0)),
          _mm512_shuffle_i32x4(first, second, _MM_SHUFFLE(3, 2, 3, 2))};
}

inline __attribute__((always_inline)) __m512i widen_pair(const uint8_t* blocks) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks)));
}

// A last, unpaired block: [low | high] in 16-bit lanes lines up with its 32 contiguous weights.
inline __attribute__((always_inline)) __m512i widen_single(const uint8_t* block) {
  const __m256i wide = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
  const __m256i low = _mm256_and_si256(wide, _mm256_set1_epi16(0x0F));
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), _mm256_srli_epi16(wide, 4), 1);
}

// Two chains, the low and the high nibbles, as in the AVX2 kernel; two blocks a step.
VECINDEX_ISA_SECTION(avx512) int32_t weighted_nibbles_i16_avx512(const int16_t* w, const uint8_t* codes,
                                                                 size_t blocks) {
  const __m512i low_mask = _mm512_set1_epi16(0x0F);
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const NibblePairWeights weights = pair_weights(w + 32 * b);
    const __m512i wide = widen_pair(codes + 16 * b);
    acc0 = _mm512_dpwssd_epi32(acc0, _mm512_and_si512(wide, low_mask), weights.low);
    acc1 = _mm512_dpwssd_epi32(acc1, _mm512_srli_epi16(wide, 4), weights.high);
  }
  if (b < blocks) acc0 = _mm512_dpwssd_epi32(acc0, widen_single(codes + 16 * b), _mm512_loadu_si512(w + 32 * b));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

// Four rows per pass over the weights: each pair of blocks' weights is loaded and rearranged
// once for all four.
VECINDEX_ISA_SECTION(avx512) void weighted_nibbles_i16_x4_avx512(const int16_t* w, const uint8_t* const* codes,
                                                                 size_t blocks, int32_t* out) {
  const __m512i low_mask = _mm512_set1_epi16(0x0F);
  // A low and a high chain per row: one chain per row would wait on vpdpwssd's latency twice a step.
  __m512i low[4], high[4];
  for (int r = 0; r < 4; ++r) low[r] = high[r] = _mm512_setzero_si512();
  size_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const NibblePairWeights weights = pair_weights(w + 32 * b);
    for (int r = 0; r < 4; ++r) {
      const __m512i wide = widen_pair(codes[r] + 16 * b);
      low[r] = _mm512_dpwssd_epi32(low[r], _mm512_and_si512(wide, low_mask), weights.low);
      high[r] = _mm512_dpwssd_epi32(high[r], _mm512_srli_epi16(wide, 4), weights.high);
    }
  }
  if (b < blocks) {
    const __m512i weights = _mm512_loadu_si512(w + 32 * b);
    for (int r = 0; r < 4; ++r) low[r] = _mm512_dpwssd_epi32(low[r], widen_single(codes[r] + 16 * b), weights);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   horizontal_sum4_epi32(_mm512_add_epi32(low[0], high[0]), _mm512_add_epi32(low[1], high[1]),
                                         _mm512_add_epi32(low[2], high[2]), _mm512_add_epi32(low[3], high[3])));
}

// Gathers sixteen table entries at a time: lane l reads row (j + l) at column codes[j + l].
VECINDEX_ISA_SECTION(avx512) float table_lookup_avx512(const float* table, const uint8_t* codes, size_t m) {
  const __m512i row_offsets = _mm512_setr_epi32(0, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304,
                                                2560, 2816, 3072, 3328, 3584, 3840);
  __m512 acc = _mm512_setzero_ps();
  for (size_t j = 0; j < m; j += 16) {
    __mmask16 mask = tail_mask16(m - j);
    __m512i index = _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, codes + j)), row_offsets);
    acc = _mm512_add_ps(acc, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, table + j * 256, 4));
  }
  return _mm512_reduce_add_ps(acc);
}

inline __attribute__((always_inline)) __mmask8 word_mask(size_t remaining) {
  return remaining >= 8 ? static_cast<__mmask8>(0xff) : static_cast<__mmask8>((1u << remaining) - 1u);
}

VECINDEX_ISA_SECTION(avx512) uint64_t popcount_avx512(const uint64_t* a, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 8)
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_maskz_loadu_epi64(word_mask(n - i), a + i)));
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
}

VECINDEX_ISA_SECTION(avx512) uint64_t and_popcount_avx512(const uint64_t* a, const uint64_t* b, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 8) {
    __mmask8 mask = word_mask(n - i);
    __m512i both = _mm512_and_si512(_mm512_maskz_loadu_epi64(mask, a + i), _mm512_maskz_loadu_epi64(mask, b + i));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(both));
  }
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
}

VECINDEX_ISA_SECTION(avx512) uint64_t xor_popcount_avx512(const uint64_t* a, const uint64_t* b, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 8) {
    __mmask8 mask = word_mask(n - i);
    __m512i diff = _mm512_xor_si512(_mm512_maskz_loadu_epi64(mask, a + i), _mm512_maskz_loadu_epi64(mask, b + i));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(diff));
  }
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
}

// Each plane's count is shifted by its weight inside the vector, then reduced once.
VECINDEX_ISA_SECTION(avx512) uint64_t bitplane_dot_avx512(const uint64_t* code, const uint64_t* planes, size_t n, size_t plane_count) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 8) {
    __mmask8 mask = word_mask(n - i);
    __m512i bits = _mm512_maskz_loadu_epi64(mask, code + i);
    for (size_t p = 0; p < plane_count; ++p) {
      __m512i plane = _mm512_maskz_loadu_epi64(mask, planes + p * n + i);
      __m512i count = _mm512_popcnt_epi64(_mm512_and_si512(bits, plane));
      acc = _mm512_add_epi64(acc, _mm512_sll_epi64(count, _mm_cvtsi64_si128(static_cast<long long>(p))));
    }
  }
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc));
}

// Sixteen centroids per lane group, masked for the last partial group.
VECINDEX_ISA_SECTION(avx512) uint32_t nearest_centroid_avx512(const float* x, const float* by_dim,
                                                              const float* norms, size_t dim, size_t count) {
  __m512 best_scores = _mm512_set1_ps(__builtin_inff());
  __m512i best_index = _mm512_setzero_si512();
  __m512i index = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  for (size_t start = 0; start < count; start += 16) {
    __mmask16 mask = tail_mask16(count - start);
    __m512 score = _mm512_maskz_loadu_ps(mask, norms + start);
    for (size_t d = 0; d < dim; ++d)
      score = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * x[d]), _mm512_maskz_loadu_ps(mask, by_dim + d * count + start), score);
    __mmask16 better = _mm512_mask_cmp_ps_mask(mask, score, best_scores, _CMP_LT_OQ);
    best_scores = _mm512_mask_blend_ps(better, best_scores, score);
    best_index = _mm512_mask_blend_epi32(better, best_index, index);
    index = _mm512_add_epi32(index, step);
  }
  float best_score = _mm512_reduce_min_ps(best_scores);
  __mmask16 winners = _mm512_cmp_ps_mask(best_scores, _mm512_set1_ps(best_score), _CMP_EQ_OQ);
  // Lowest index among tied lanes, as the scalar kernel would pick.
  __m512i candidates = _mm512_mask_blend_epi32(winners, _mm512_set1_epi32(-1), best_index);
  return static_cast<uint32_t>(_mm512_reduce_min_epu32(candidates));
}

// FastScan as in the AVX2 kernel (same four sums, same even/odd split, same pairs of steps
// added before the sums) at twice the width: four groups per step, one per 128-bit lane, since
// vpshufb looks up within each lane. A tail of one to three groups is a masked load, whose zero
// tables add nothing.
struct FastScanSums {
  __m512i low_all, low_odd, high_all, high_odd;  // codes 0..15 (low nibbles), 16..31 (high)
};

struct FastScanLookups {
  __m512i low, high;  // the entries that codes 0..15 and 16..31 pick in the step's four groups
};

inline __attribute__((always_inline)) FastScanLookups fastscan_lookup(__m512i codes, __m512i tables) {
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  return {_mm512_shuffle_epi8(tables, _mm512_and_si512(codes, nibble)),
          _mm512_shuffle_epi8(tables, _mm512_and_si512(_mm512_srli_epi16(codes, 4), nibble))};
}

inline __attribute__((always_inline)) void fastscan_add(FastScanLookups a, FastScanLookups b, FastScanSums& sums) {
  sums.low_all = _mm512_add_epi16(sums.low_all, _mm512_add_epi16(a.low, b.low));
  sums.low_odd = _mm512_add_epi16(sums.low_odd, _mm512_add_epi16(_mm512_srli_epi16(a.low, 8), _mm512_srli_epi16(b.low, 8)));
  sums.high_all = _mm512_add_epi16(sums.high_all, _mm512_add_epi16(a.high, b.high));
  sums.high_odd = _mm512_add_epi16(sums.high_odd,
                                   _mm512_add_epi16(_mm512_srli_epi16(a.high, 8), _mm512_srli_epi16(b.high, 8)));
}

inline __attribute__((always_inline)) __m128i add_lanes_epi16(__m512i v) {
  __m256i half = _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
  return _mm_add_epi16(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
}

// Adds the four lanes, splits out the even codes, and stores 16 sums in code order.
inline __attribute__((always_inline)) void fastscan_store16(__m512i all, __m512i odd, uint16_t* out) {
  __m128i all_codes = add_lanes_epi16(all);
  __m128i odd_codes = add_lanes_epi16(odd);
  __m128i even_codes = _mm_sub_epi16(all_codes, _mm_slli_epi16(odd_codes, 8));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi16(even_codes, odd_codes));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), _mm_unpackhi_epi16(even_codes, odd_codes));
}

VECINDEX_ISA_SECTION(avx512) void fastscan32_avx512(const uint8_t* packed, const uint8_t* tables, size_t groups,
                                                    uint16_t* out) {
  const __m512i zero = _mm512_setzero_si512();
  const FastScanLookups none = {zero, zero};
  FastScanSums sums = {zero, zero, zero, zero};
  size_t g = 0;
  for (; g + 8 <= groups; g += 8)
    fastscan_add(fastscan_lookup(_mm512_loadu_si512(packed + 16 * g), _mm512_loadu_si512(tables + 16 * g)),
                 fastscan_lookup(_mm512_loadu_si512(packed + 16 * g + 64), _mm512_loadu_si512(tables + 16 * g + 64)),
                 sums);
  if (g + 4 <= groups) {
    fastscan_add(fastscan_lookup(_mm512_loadu_si512(packed + 16 * g), _mm512_loadu_si512(tables + 16 * g)), none, sums);
    g += 4;
  }
  if (g < groups) {
    __mmask64 mask = (uint64_t{1} << (16 * (groups - g))) - 1;
    fastscan_add(fastscan_lookup(_mm512_maskz_loadu_epi8(mask, packed + 16 * g), _mm512_maskz_loadu_epi8(mask, tables + 16 * g)),
                 none, sums);
  }
  fastscan_store16(sums.low_all, sums.low_odd, out);
  fastscan_store16(sums.high_all, sums.high_odd, out + 16);
}

// Sixteen codes widened to floats; the masked form reads only a tail's first bytes.
inline __attribute__((always_inline)) __m512 byte_floats(const uint8_t* codes) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes))));
}
inline __attribute__((always_inline)) __m512 byte_floats(const uint8_t* codes, __mmask16 mask) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, codes)));
}

// The AVX2 walk at twice the width: two chains over 32 dimensions a step, then masked steps
// of 16 (masked lanes load zeros: low, step and codes all 0, so they add nothing).
template <class Add>
inline __attribute__((always_inline)) float sq8_pair(const float* low, const float* step, const uint8_t* a,
                                                     const uint8_t* b, size_t dim, Add add) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = add(acc0, _mm512_loadu_ps(low + i), _mm512_loadu_ps(step + i), byte_floats(a + i), byte_floats(b + i));
    acc1 = add(acc1, _mm512_loadu_ps(low + i + 16), _mm512_loadu_ps(step + i + 16), byte_floats(a + i + 16),
               byte_floats(b + i + 16));
  }
  for (; i < dim; i += 16) {
    __mmask16 mask = tail_mask16(dim - i);
    acc0 = add(acc0, _mm512_maskz_loadu_ps(mask, low + i), _mm512_maskz_loadu_ps(mask, step + i),
               byte_floats(a + i, mask), byte_floats(b + i, mask));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

VECINDEX_ISA_SECTION(avx512) float sq8_pair_dot_avx512(const float* low, const float* step, const uint8_t* a,
                                                       const uint8_t* b, size_t dim) {
  return sq8_pair(low, step, a, b, dim, [](__m512 acc, __m512 lows, __m512 steps, __m512 x, __m512 y) {
    return _mm512_fmadd_ps(_mm512_fmadd_ps(steps, x, lows), _mm512_fmadd_ps(steps, y, lows), acc);
  });
}

VECINDEX_ISA_SECTION(avx512) float sq8_pair_l2sq_avx512(const float* low, const float* step, const uint8_t* a,
                                                        const uint8_t* b, size_t dim) {
  return sq8_pair(low, step, a, b, dim, [](__m512 acc, __m512, __m512 steps, __m512 x, __m512 y) {
    __m512 d = _mm512_mul_ps(steps, _mm512_sub_ps(x, y));
    return _mm512_fmadd_ps(d, d, acc);
  });
}

const CodecKernelTable kAvx512CodecTable = {
    Level::avx512,
    f16_dot_avx512,
    f16_l2sq_avx512,
    bf16_dot_avx512,
    bf16_l2sq_avx512,
    weighted_bytes_avx512,
    weighted_bytes_i16_avx512,
    weighted_bytes_i16_x4_avx512,
    weighted_nibbles_i16_avx512,
    weighted_nibbles_i16_x4_avx512,
    table_lookup_avx512,
    popcount_avx512,
    and_popcount_avx512,
    xor_popcount_avx512,
    bitplane_dot_avx512,
    nearest_centroid_avx512,
    fastscan32_avx512,
    sq8_pair_dot_avx512,
    sq8_pair_l2sq_avx512,
};

}  // namespace

const CodecKernelTable* avx512_codec_kernels() { return &kAvx512CodecTable; }

}  // namespace vecindex::simd
