// AVX2 + FMA + F16C + POPCNT codec kernels. Compiled with those flags for this file only;
// codec_dispatch.cpp hands them out only after cpuid confirmed AVX2.
#include <immintrin.h>

#include "simd/codec_kernel_table.h"

namespace vecindex::simd {
namespace {

// A block's 16 bytes, zero-extended to 16-bit lanes as they are loaded: each lane's high nibble
// is then a plain shift, and its low one a single mask (masking both nibbles in bytes first,
// then widening each, took two more instructions a block: ~20% of this kernel).
inline __attribute__((always_inline)) __m256i widen_block(const uint8_t* block) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)));
}

VECINDEX_ISA_SECTION(avx2) int32_t weighted_nibbles_i16_avx2(const int16_t* w, const uint8_t* codes, size_t blocks) {
  const __m256i low_mask = _mm256_set1_epi16(0x0F);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  for (size_t b = 0; b < blocks; ++b) {
    const __m256i wide = widen_block(codes + 16 * b);
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_and_si256(wide, low_mask),
                                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * b))));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_srli_epi16(wide, 4),
                                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * b + 16))));
  }
  __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  return _mm_cvtsi128_si32(sum);
}

// Four rows per pass over the weights: each block's 32 weights are loaded once for all four.
VECINDEX_ISA_SECTION(avx2) void weighted_nibbles_i16_x4_avx2(const int16_t* w, const uint8_t* const* codes,
                                                             size_t blocks, int32_t* out) {
  const __m256i low_mask = _mm256_set1_epi16(0x0F);
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (size_t b = 0; b < blocks; ++b) {
    const __m256i w_low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * b));
    const __m256i w_high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 32 * b + 16));
    for (int r = 0; r < 4; ++r) {
      const __m256i wide = widen_block(codes[r] + 16 * b);
      acc[r] = _mm256_add_epi32(acc[r], _mm256_add_epi32(_mm256_madd_epi16(_mm256_and_si256(wide, low_mask), w_low),
                                                         _mm256_madd_epi16(_mm256_srli_epi16(wide, 4), w_high)));
    }
  }
  // hadd twice leaves each row's partial sums in one lane of each 128-bit half.
  __m256i folded = _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
  __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(folded), _mm256_extracti128_si256(folded, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), sums);
}

inline __attribute__((always_inline)) float horizontal_sum(__m256 v) {
  __m128 low = _mm256_castps256_ps128(v);
  __m128 high = _mm256_extractf128_ps(v, 1);
  __m128 sum = _mm_add_ps(low, high);
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

inline __attribute__((always_inline)) __m256 load_f16(const uint16_t* x) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
}

inline __attribute__((always_inline)) __m256 load_bf16(const uint16_t* x) {
  __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

inline __attribute__((always_inline)) float scalar_f16(uint16_t v) { return _cvtsh_ss(v); }
inline __attribute__((always_inline)) float scalar_bf16(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float out;
  __builtin_memcpy(&out, &bits, sizeof out);
  return out;
}

template <__m256 (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
inline __attribute__((always_inline)) float half_dot(const float* q, const uint16_t* x, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), Load(x + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), Load(x + i + 8), acc1);
  }
  for (; i + 8 <= dim; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), Load(x + i), acc0);
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum += q[i] * Scalar(x[i]);
  return sum;
}

template <__m256 (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
inline __attribute__((always_inline)) float half_l2sq(const float* q, const uint16_t* x, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), Load(x + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), Load(x + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= dim; i += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(q + i), Load(x + i));
    acc0 = _mm256_fmadd_ps(d, d, acc0);
  }
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) { float d = q[i] - Scalar(x[i]); sum += d * d; }
  return sum;
}

// Concrete kernels: a template instance would ignore the section attribute.
VECINDEX_ISA_SECTION(avx2) float f16_dot_avx2(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_f16, scalar_f16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx2) float f16_l2sq_avx2(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_f16, scalar_f16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx2) float bf16_dot_avx2(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_bf16, scalar_bf16>(q, x, dim);
}
VECINDEX_ISA_SECTION(avx2) float bf16_l2sq_avx2(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_bf16, scalar_bf16>(q, x, dim);
}

VECINDEX_ISA_SECTION(avx2) float weighted_bytes_avx2(const float* w, const uint8_t* codes, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i));
    __m256 low = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    __m256 high = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), low, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), high, acc1);
  }
  for (; i + 8 <= dim; i += 8) {
    __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), acc0);
  }
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum += w[i] * codes[i];
  return sum;
}

// Codes widened to 16 bits, then pmaddwd: 16 products per instruction, summed in pairs.
VECINDEX_ISA_SECTION(avx2) int32_t weighted_bytes_i16_avx2(const int16_t* w, const uint8_t* codes, size_t dim) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m256i c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    __m256i c1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i + 16)));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i))));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(c1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i + 16))));
  }
  for (; i + 16 <= dim; i += 16) {
    __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i))));
  }
  __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  int32_t total = _mm_cvtsi128_si32(sum);
  for (; i < dim; ++i) total += static_cast<int32_t>(w[i]) * codes[i];
  return total;
}

// Four rows per pass over the weights; the four accumulators are folded together with hadd.
VECINDEX_ISA_SECTION(avx2) void weighted_bytes_i16_x4_avx2(const int16_t* w, const uint8_t* const* codes, size_t dim,
                                                           int32_t* out) {
  const uint8_t *c0 = codes[0], *c1 = codes[1], *c2 = codes[2], *c3 = codes[3];
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
  __m256i a2 = _mm256_setzero_si256(), a3 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256i weights = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + i));
    auto widen = [i](const uint8_t* c) {
      return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
    };
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(widen(c0), weights));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(widen(c1), weights));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(widen(c2), weights));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(widen(c3), weights));
  }
  // hadd twice leaves each row's partial sums in one lane of each 128-bit half.
  __m256i folded = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  __m128i sums = _mm_add_epi32(_mm256_castsi256_si128(folded), _mm256_extracti128_si256(folded, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), sums);
  for (; i < dim; ++i) {
    int32_t weight = w[i];
    out[0] += weight * c0[i];
    out[1] += weight * c1[i];
    out[2] += weight * c2[i];
    out[3] += weight * c3[i];
  }
}

// Gathers eight table entries at a time: lane l reads row (j + l) at column codes[j + l].
VECINDEX_ISA_SECTION(avx2) float table_lookup_avx2(const float* table, const uint8_t* codes, size_t m) {
  const __m256i row_offsets = _mm256_setr_epi32(0, 256, 512, 768, 1024, 1280, 1536, 1792);
  __m256 acc = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + j));
    __m256i index = _mm256_add_epi32(_mm256_cvtepu8_epi32(bytes), row_offsets);
    acc = _mm256_add_ps(acc, _mm256_i32gather_ps(table + j * 256, index, 4));
  }
  float sum = horizontal_sum(acc);
  for (; j < m; ++j) sum += table[j * 256 + codes[j]];
  return sum;
}

VECINDEX_ISA_SECTION(avx2) uint64_t popcount_avx2(const uint64_t* a, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += static_cast<uint64_t>(_mm_popcnt_u64(a[i]));
  return total;
}

VECINDEX_ISA_SECTION(avx2) uint64_t and_popcount_avx2(const uint64_t* a, const uint64_t* b, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += static_cast<uint64_t>(_mm_popcnt_u64(a[i] & b[i]));
  return total;
}

VECINDEX_ISA_SECTION(avx2) uint64_t xor_popcount_avx2(const uint64_t* a, const uint64_t* b, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += static_cast<uint64_t>(_mm_popcnt_u64(a[i] ^ b[i]));
  return total;
}

VECINDEX_ISA_SECTION(avx2) uint64_t bitplane_dot_avx2(const uint64_t* code, const uint64_t* planes, size_t n, size_t plane_count) {
  uint64_t total = 0;
  for (size_t p = 0; p < plane_count; ++p) {
    const uint64_t* plane = planes + p * n;
    uint64_t count = 0;
    for (size_t i = 0; i < n; ++i) count += static_cast<uint64_t>(_mm_popcnt_u64(code[i] & plane[i]));
    total += count << p;
  }
  return total;
}

// Eight centroids per lane group; the running minimum and its index stay in registers.
VECINDEX_ISA_SECTION(avx2) uint32_t nearest_centroid_avx2(const float* x, const float* by_dim, const float* norms,
                                                          size_t dim, size_t count) {
  uint32_t best = 0;
  float best_score = 0;
  size_t start = 0;
  if (count >= 8) {
    __m256 best_scores = _mm256_set1_ps(__builtin_inff());
    __m256i best_index = _mm256_setzero_si256();
    __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i step = _mm256_set1_epi32(8);
    for (; start + 8 <= count; start += 8) {
      __m256 score = _mm256_loadu_ps(norms + start);
      for (size_t d = 0; d < dim; ++d)
        score = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f * x[d]), _mm256_loadu_ps(by_dim + d * count + start), score);
      __m256 better = _mm256_cmp_ps(score, best_scores, _CMP_LT_OQ);
      best_scores = _mm256_blendv_ps(best_scores, score, better);
      best_index = _mm256_blendv_epi8(best_index, index, _mm256_castps_si256(better));
      index = _mm256_add_epi32(index, step);
    }
    alignas(32) float scores[8];
    alignas(32) uint32_t indices[8];
    _mm256_store_ps(scores, best_scores);
    _mm256_store_si256(reinterpret_cast<__m256i*>(indices), best_index);
    best = indices[0];
    best_score = scores[0];
    for (int lane = 1; lane < 8; ++lane)
      if (scores[lane] < best_score || (scores[lane] == best_score && indices[lane] < best)) {
        best_score = scores[lane];
        best = indices[lane];
      }
  }
  for (; start < count; ++start) {
    float score = norms[start];
    for (size_t d = 0; d < dim; ++d) score += -2.0f * x[d] * by_dim[d * count + start];
    if (start == 0 || score < best_score) {
      best_score = score;
      best = static_cast<uint32_t>(start);
    }
  }
  return best;
}

// FastScan, two groups per 256-bit step: lane 0 holds group g's 16 code bytes and table, lane 1
// group g + 1's, which is exactly vpshufb's per-lane lookup. Looked-up bytes are summed as 16-bit
// words (a pair of codes each) beside a sum of the odd bytes alone; the even codes' sums then
// follow exactly (mod 2^16) as all - (odd << 8), which saves widening every lookup.
struct FastScanSums {
  __m256i low_all, low_odd, high_all, high_odd;  // codes 0..15 (low nibbles), 16..31 (high)
};

struct FastScanLookups {
  __m256i low, high;  // the entries that codes 0..15 and 16..31 pick in the step's two groups
};

inline __attribute__((always_inline)) __m256i load_bytes32(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

inline __attribute__((always_inline)) FastScanLookups fastscan_lookup(__m256i codes, __m256i tables) {
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  return {_mm256_shuffle_epi8(tables, _mm256_and_si256(codes, nibble)),
          _mm256_shuffle_epi8(tables, _mm256_and_si256(_mm256_srli_epi16(codes, 4), nibble))};
}

// Two steps are added to each other before they reach the sums: the split stays exact (it is
// linear mod 2^16) and the sums' dependency chains are half as long (about 10% faster).
inline __attribute__((always_inline)) void fastscan_add(FastScanLookups a, FastScanLookups b, FastScanSums& sums) {
  sums.low_all = _mm256_add_epi16(sums.low_all, _mm256_add_epi16(a.low, b.low));
  sums.low_odd = _mm256_add_epi16(sums.low_odd, _mm256_add_epi16(_mm256_srli_epi16(a.low, 8), _mm256_srli_epi16(b.low, 8)));
  sums.high_all = _mm256_add_epi16(sums.high_all, _mm256_add_epi16(a.high, b.high));
  sums.high_odd = _mm256_add_epi16(sums.high_odd,
                                   _mm256_add_epi16(_mm256_srli_epi16(a.high, 8), _mm256_srli_epi16(b.high, 8)));
}

// Adds the two lanes (even and odd groups), splits out the even codes, and stores 16 sums in
// code order.
inline __attribute__((always_inline)) void fastscan_store16(__m256i all, __m256i odd, uint16_t* out) {
  __m128i all_codes = _mm_add_epi16(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
  __m128i odd_codes = _mm_add_epi16(_mm256_castsi256_si128(odd), _mm256_extracti128_si256(odd, 1));
  __m128i even_codes = _mm_sub_epi16(all_codes, _mm_slli_epi16(odd_codes, 8));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_unpacklo_epi16(even_codes, odd_codes));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 8), _mm_unpackhi_epi16(even_codes, odd_codes));
}

VECINDEX_ISA_SECTION(avx2) void fastscan32_avx2(const uint8_t* packed, const uint8_t* tables, size_t groups,
                                                uint16_t* out) {
  const __m256i zero = _mm256_setzero_si256();
  const FastScanLookups none = {zero, zero};
  FastScanSums sums = {zero, zero, zero, zero};
  size_t g = 0;
  for (; g + 4 <= groups; g += 4)
    fastscan_add(fastscan_lookup(load_bytes32(packed + 16 * g), load_bytes32(tables + 16 * g)),
                 fastscan_lookup(load_bytes32(packed + 16 * g + 32), load_bytes32(tables + 16 * g + 32)), sums);
  if (g + 2 <= groups) {
    fastscan_add(fastscan_lookup(load_bytes32(packed + 16 * g), load_bytes32(tables + 16 * g)), none, sums);
    g += 2;
  }
  // An odd last group: lane 1's table is zero, so its lookups add nothing; nothing past the
  // inputs is read.
  if (g < groups)
    fastscan_add(fastscan_lookup(_mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + 16 * g))),
                                 _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tables + 16 * g)))),
                 none, sums);
  fastscan_store16(sums.low_all, sums.low_odd, out);
  fastscan_store16(sums.high_all, sums.high_odd, out + 16);
}

// Eight codes widened to floats (exact: every byte is a float).
inline __attribute__((always_inline)) __m256 byte_floats(__m128i bytes) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
}

// The pair kernels' shared walk: `add` folds 8 dimensions (both rows' codes as floats, with
// their low and step) into a chain, two chains over 16 dimensions a step; `add_one` a tail one.
template <class Add, class AddOne>
inline __attribute__((always_inline)) float sq8_pair(const float* low, const float* step, const uint8_t* a,
                                                     const uint8_t* b, size_t dim, Add add, AddOne add_one) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m128i bytes_a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    __m128i bytes_b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    acc0 = add(acc0, low + i, step + i, byte_floats(bytes_a), byte_floats(bytes_b));
    acc1 = add(acc1, low + i + 8, step + i + 8, byte_floats(_mm_srli_si128(bytes_a, 8)),
               byte_floats(_mm_srli_si128(bytes_b, 8)));
  }
  for (; i + 8 <= dim; i += 8)
    acc0 = add(acc0, low + i, step + i, byte_floats(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i))),
               byte_floats(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i))));
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < dim; ++i) sum += add_one(low[i], step[i], static_cast<float>(a[i]), static_cast<float>(b[i]));
  return sum;
}

// Both rows decoded in registers (fma of step and code onto low), then multiplied.
VECINDEX_ISA_SECTION(avx2) float sq8_pair_dot_avx2(const float* low, const float* step, const uint8_t* a,
                                                   const uint8_t* b, size_t dim) {
  return sq8_pair(
      low, step, a, b, dim,
      [](__m256 acc, const float* l, const float* s, __m256 x, __m256 y) {
        __m256 lows = _mm256_loadu_ps(l), steps = _mm256_loadu_ps(s);
        return _mm256_fmadd_ps(_mm256_fmadd_ps(steps, x, lows), _mm256_fmadd_ps(steps, y, lows), acc);
      },
      [](float l, float s, float x, float y) { return (l + s * x) * (l + s * y); });
}

// step * (a - b) per dimension, squared; the codes' difference is exact in float.
VECINDEX_ISA_SECTION(avx2) float sq8_pair_l2sq_avx2(const float* low, const float* step, const uint8_t* a,
                                                    const uint8_t* b, size_t dim) {
  return sq8_pair(
      low, step, a, b, dim,
      [](__m256 acc, const float*, const float* s, __m256 x, __m256 y) {
        __m256 d = _mm256_mul_ps(_mm256_loadu_ps(s), _mm256_sub_ps(x, y));
        return _mm256_fmadd_ps(d, d, acc);
      },
      [](float, float s, float x, float y) {
        float d = s * (x - y);
        return d * d;
      });
}

const CodecKernelTable kAvx2CodecTable = {
    Level::avx2,
    f16_dot_avx2,
    f16_l2sq_avx2,
    bf16_dot_avx2,
    bf16_l2sq_avx2,
    weighted_bytes_avx2,
    weighted_bytes_i16_avx2,
    weighted_bytes_i16_x4_avx2,
    weighted_nibbles_i16_avx2,
    weighted_nibbles_i16_x4_avx2,
    table_lookup_avx2,
    popcount_avx2,
    and_popcount_avx2,
    xor_popcount_avx2,
    bitplane_dot_avx2,
    nearest_centroid_avx2,
    fastscan32_avx2,
    sq8_pair_dot_avx2,
    sq8_pair_l2sq_avx2,
};

}  // namespace

const CodecKernelTable* avx2_codec_kernels() { return &kAvx2CodecTable; }

}  // namespace vecindex::simd
