// NEON codec kernels for aarch64, where NEON (with f16 <-> f32 conversion) is baseline.
//
// CMakeLists.txt builds *_neon.cpp files only on ARM; the __aarch64__ guard also makes this
// file compile to nothing if an x86 build ever picks it up. Each kernel is checked against
// codec_kernels_scalar.cpp by tests/native/neon_check.cpp, run under qemu-aarch64.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "simd/codec_kernel_table.h"

#define VECINDEX_NEON_KERNEL VECINDEX_ISA_SECTION(neon)
#define VECINDEX_NEON_INLINE inline __attribute__((always_inline))

namespace vecindex::simd::neon_impl {
namespace {

// ---- f16 / bf16 against an f32 query -------------------------------------------------------

VECINDEX_NEON_INLINE float32x4_t load_f16(const uint16_t* x) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x)));  // exact: every half is a float
}

VECINDEX_NEON_INLINE float32x4_t load_bf16(const uint16_t* x) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(x), 16));  // bf16 is the top half of an f32
}

// Tails reuse the vector conversion on one lane, so tails and bodies convert identically.
VECINDEX_NEON_INLINE float scalar_f16(uint16_t v) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(v))), 0);
}

VECINDEX_NEON_INLINE float scalar_bf16(uint16_t v) {
  return vgetq_lane_f32(vreinterpretq_f32_u32(vshll_n_u16(vdup_n_u16(v), 16)), 0);
}

template <float32x4_t (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
VECINDEX_NEON_INLINE float half_dot(const float* q, const uint16_t* x, size_t dim) {
  // Four accumulators hide the FMA latency.
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(q + i), Load(x + i));
    s1 = vfmaq_f32(s1, vld1q_f32(q + i + 4), Load(x + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(q + i + 8), Load(x + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(q + i + 12), Load(x + i + 12));
  }
  for (; i + 4 <= dim; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(q + i), Load(x + i));
  float tail = 0.0f;
  for (; i < dim; ++i) tail += q[i] * Scalar(x[i]);
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

template <float32x4_t (*Load)(const uint16_t*), float (*Scalar)(uint16_t)>
VECINDEX_NEON_INLINE float half_l2sq(const float* q, const uint16_t* x, size_t dim) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    float32x4_t d0 = vsubq_f32(vld1q_f32(q + i), Load(x + i));
    float32x4_t d1 = vsubq_f32(vld1q_f32(q + i + 4), Load(x + i + 4));
    float32x4_t d2 = vsubq_f32(vld1q_f32(q + i + 8), Load(x + i + 8));
    float32x4_t d3 = vsubq_f32(vld1q_f32(q + i + 12), Load(x + i + 12));
    s0 = vfmaq_f32(s0, d0, d0);
    s1 = vfmaq_f32(s1, d1, d1);
    s2 = vfmaq_f32(s2, d2, d2);
    s3 = vfmaq_f32(s3, d3, d3);
  }
  for (; i + 4 <= dim; i += 4) {
    float32x4_t d = vsubq_f32(vld1q_f32(q + i), Load(x + i));
    s0 = vfmaq_f32(s0, d, d);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) {
    float d = q[i] - Scalar(x[i]);
    tail += d * d;
  }
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

// Concrete kernels: a template instance would ignore the section attribute.
VECINDEX_NEON_KERNEL float f16_dot(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_f16, scalar_f16>(q, x, dim);
}
VECINDEX_NEON_KERNEL float f16_l2sq(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_f16, scalar_f16>(q, x, dim);
}
VECINDEX_NEON_KERNEL float bf16_dot(const float* q, const uint16_t* x, size_t dim) {
  return half_dot<load_bf16, scalar_bf16>(q, x, dim);
}
VECINDEX_NEON_KERNEL float bf16_l2sq(const float* q, const uint16_t* x, size_t dim) {
  return half_l2sq<load_bf16, scalar_bf16>(q, x, dim);
}

// ---- SQ8: weights . codes --------------------------------------------------------------------

VECINDEX_NEON_KERNEL float weighted_bytes(const float* w, const uint8_t* codes, size_t dim) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    uint8x16_t bytes = vld1q_u8(codes + i);
    uint16x8_t low = vmovl_u8(vget_low_u8(bytes));
    uint16x8_t high = vmovl_high_u8(bytes);
    s0 = vfmaq_f32(s0, vld1q_f32(w + i), vcvtq_f32_u32(vmovl_u16(vget_low_u16(low))));
    s1 = vfmaq_f32(s1, vld1q_f32(w + i + 4), vcvtq_f32_u32(vmovl_high_u16(low)));
    s2 = vfmaq_f32(s2, vld1q_f32(w + i + 8), vcvtq_f32_u32(vmovl_u16(vget_low_u16(high))));
    s3 = vfmaq_f32(s3, vld1q_f32(w + i + 12), vcvtq_f32_u32(vmovl_high_u16(high)));
  }
  for (; i + 8 <= dim; i += 8) {
    uint16x8_t wide = vmovl_u8(vld1_u8(codes + i));
    s0 = vfmaq_f32(s0, vld1q_f32(w + i), vcvtq_f32_u32(vmovl_u16(vget_low_u16(wide))));
    s1 = vfmaq_f32(s1, vld1q_f32(w + i + 4), vcvtq_f32_u32(vmovl_high_u16(wide)));
  }
  float tail = 0.0f;
  for (; i < dim; ++i) tail += w[i] * codes[i];
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

// Codes widened to 16 bits (0..255 fits a signed lane), then widening multiply-accumulate into
// 32-bit lanes: exact integer arithmetic. Lane adds wrap, so the total is exact whenever the
// true sum fits int32, which the caller guarantees.
VECINDEX_NEON_KERNEL int32_t weighted_bytes_i16(const int16_t* w, const uint8_t* codes, size_t dim) {
  int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0), s2 = vdupq_n_s32(0), s3 = vdupq_n_s32(0);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    uint8x16_t bytes = vld1q_u8(codes + i);
    int16x8_t low = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(bytes)));
    int16x8_t high = vreinterpretq_s16_u16(vmovl_high_u8(bytes));
    int16x8_t w_low = vld1q_s16(w + i), w_high = vld1q_s16(w + i + 8);
    s0 = vmlal_s16(s0, vget_low_s16(w_low), vget_low_s16(low));
    s1 = vmlal_high_s16(s1, w_low, low);
    s2 = vmlal_s16(s2, vget_low_s16(w_high), vget_low_s16(high));
    s3 = vmlal_high_s16(s3, w_high, high);
  }
  for (; i + 8 <= dim; i += 8) {
    int16x8_t wide = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(codes + i)));
    int16x8_t weights = vld1q_s16(w + i);
    s0 = vmlal_s16(s0, vget_low_s16(weights), vget_low_s16(wide));
    s1 = vmlal_high_s16(s1, weights, wide);
  }
  int32x4_t sum = vaddq_s32(vaddq_s32(s0, s1), vaddq_s32(s2, s3));
  int32_t total = vaddvq_s32(sum);
  for (; i < dim; ++i) total += static_cast<int32_t>(w[i]) * codes[i];
  return total;
}

// Rows one after another: NEON cores overlap the independent loads without interleaving.
VECINDEX_NEON_KERNEL void weighted_bytes_i16_x4(const int16_t* w, const uint8_t* const* codes, size_t dim,
                                                int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = weighted_bytes_i16(w, codes[r], dim);
}

// Low and high nibbles of each 16-byte block, widened to 16 bits, multiply-accumulated into
// 32-bit lanes against the block's low and high 16 weights.
VECINDEX_NEON_KERNEL int32_t weighted_nibbles_i16(const int16_t* w, const uint8_t* codes, size_t blocks) {
  int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(0), s2 = vdupq_n_s32(0), s3 = vdupq_n_s32(0);
  const uint8x16_t low_mask = vdupq_n_u8(0x0F);
  for (size_t b = 0; b < blocks; ++b) {
    uint8x16_t bytes = vld1q_u8(codes + 16 * b);
    uint8x16_t low = vandq_u8(bytes, low_mask);
    uint8x16_t high = vshrq_n_u8(bytes, 4);
    const int16_t* wb = w + 32 * b;
    int16x8_t l0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(low)));
    int16x8_t l1 = vreinterpretq_s16_u16(vmovl_high_u8(low));
    int16x8_t h0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(high)));
    int16x8_t h1 = vreinterpretq_s16_u16(vmovl_high_u8(high));
    int16x8_t w0 = vld1q_s16(wb), w1 = vld1q_s16(wb + 8), w2 = vld1q_s16(wb + 16), w3 = vld1q_s16(wb + 24);
    s0 = vmlal_s16(s0, vget_low_s16(w0), vget_low_s16(l0));
    s1 = vmlal_high_s16(s1, w0, l0);
    s2 = vmlal_s16(s2, vget_low_s16(w1), vget_low_s16(l1));
    s3 = vmlal_high_s16(s3, w1, l1);
    s0 = vmlal_s16(s0, vget_low_s16(w2), vget_low_s16(h0));
    s1 = vmlal_high_s16(s1, w2, h0);
    s2 = vmlal_s16(s2, vget_low_s16(w3), vget_low_s16(h1));
    s3 = vmlal_high_s16(s3, w3, h1);
  }
  return vaddvq_s32(vaddq_s32(vaddq_s32(s0, s1), vaddq_s32(s2, s3)));
}

// Rows one after another, as for bytes: NEON cores overlap the independent loads anyway.
VECINDEX_NEON_KERNEL void weighted_nibbles_i16_x4(const int16_t* w, const uint8_t* const* codes, size_t blocks,
                                                  int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = weighted_nibbles_i16(w, codes[r], blocks);
}

// ---- PQ: sum_j table[j][codes[j]] ------------------------------------------------------------

// NEON has no gather: four lane loads build one vector, then vector adds.
VECINDEX_NEON_INLINE float32x4_t gather_rows(const float* table, const uint8_t* codes) {
  float32x4_t v = vdupq_n_f32(0.0f);
  v = vld1q_lane_f32(table + codes[0], v, 0);
  v = vld1q_lane_f32(table + 256 + codes[1], v, 1);
  v = vld1q_lane_f32(table + 512 + codes[2], v, 2);
  v = vld1q_lane_f32(table + 768 + codes[3], v, 3);
  return v;
}

VECINDEX_NEON_KERNEL float table_lookup(const float* table, const uint8_t* codes, size_t m) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    s0 = vaddq_f32(s0, gather_rows(table + j * 256, codes + j));
    s1 = vaddq_f32(s1, gather_rows(table + (j + 4) * 256, codes + j + 4));
  }
  for (; j + 4 <= m; j += 4) s0 = vaddq_f32(s0, gather_rows(table + j * 256, codes + j));
  float tail = 0.0f;
  for (; j < m; ++j) tail += table[j * 256 + codes[j]];
  return vaddvq_f32(vaddq_f32(s0, s1)) + tail;
}

// ---- Popcounts -------------------------------------------------------------------------------

enum class Combine { none, bit_and, bit_xor };

template <Combine C>
VECINDEX_NEON_INLINE uint64x2_t combine2(const uint64_t* a, const uint64_t* b) {
  uint64x2_t x = vld1q_u64(a);
  if (C == Combine::bit_and) x = vandq_u64(x, vld1q_u64(b));
  if (C == Combine::bit_xor) x = veorq_u64(x, vld1q_u64(b));
  return x;
}

template <Combine C>
VECINDEX_NEON_INLINE uint64_t combine1(const uint64_t* a, const uint64_t* b) {
  if (C == Combine::bit_and) return a[0] & b[0];
  if (C == Combine::bit_xor) return a[0] ^ b[0];
  return a[0];
}

// Per-byte counts (vcntq_u8) are summed into 16-bit lanes, which are widened to 64 bits every
// kBlockWords words, well before a 16-bit lane (gaining at most 32 per 4 words) can overflow.
template <Combine C>
VECINDEX_NEON_INLINE uint64_t popcount_words(const uint64_t* a, const uint64_t* b, size_t n) {
  constexpr size_t kBlockWords = 4096;
  uint64x2_t total = vdupq_n_u64(0);
  size_t i = 0;
  while (i + 4 <= n) {
    size_t span = n - i < kBlockWords ? n - i : kBlockWords;
    size_t end = i + (span & ~static_cast<size_t>(3));
    uint16x8_t counts = vdupq_n_u16(0);
    for (; i < end; i += 4) {
      uint8x16_t c0 = vcntq_u8(vreinterpretq_u8_u64(combine2<C>(a + i, b + i)));
      uint8x16_t c1 = vcntq_u8(vreinterpretq_u8_u64(combine2<C>(a + i + 2, b + i + 2)));
      counts = vpadalq_u8(counts, vaddq_u8(c0, c1));  // a byte sum is at most 16
    }
    total = vpadalq_u32(total, vpaddlq_u16(counts));
  }
  uint64_t sum = vaddvq_u64(total);
  for (; i < n; ++i) sum += vaddv_u8(vcnt_u8(vcreate_u8(combine1<C>(a + i, b + i))));
  return sum;
}

VECINDEX_NEON_KERNEL uint64_t popcount(const uint64_t* a, size_t n) {
  return popcount_words<Combine::none>(a, a, n);
}

VECINDEX_NEON_KERNEL uint64_t and_popcount(const uint64_t* a, const uint64_t* b, size_t n) {
  return popcount_words<Combine::bit_and>(a, b, n);
}

VECINDEX_NEON_KERNEL uint64_t xor_popcount(const uint64_t* a, const uint64_t* b, size_t n) {
  return popcount_words<Combine::bit_xor>(a, b, n);
}

VECINDEX_NEON_KERNEL uint64_t bitplane_dot(const uint64_t* code, const uint64_t* planes, size_t n,
                                           size_t plane_count) {
  uint64_t total = 0;
  for (size_t p = 0; p < plane_count; ++p) total += popcount_words<Combine::bit_and>(code, planes + p * n, n) << p;
  return total;
}

// ---- Nearest centroid ------------------------------------------------------------------------

// Keeps, per lane, the lowest score seen and its centroid index. Strict < keeps the earliest
// index within a lane on ties, as the scalar kernel does.
VECINDEX_NEON_INLINE void keep_better(float32x4_t score, uint32x4_t index, float32x4_t& best_scores,
                                      uint32x4_t& best_index) {
  uint32x4_t better = vcltq_f32(score, best_scores);
  best_scores = vbslq_f32(better, score, best_scores);
  best_index = vbslq_u32(better, index, best_index);
}

VECINDEX_NEON_KERNEL uint32_t nearest_centroid(const float* x, const float* by_dim, const float* norms, size_t dim,
                                               size_t count) {
  uint32_t best = 0;
  float best_score = 0;
  size_t start = 0;
  if (count >= 4) {
    float32x4_t best_scores = vdupq_n_f32(__builtin_inff());
    uint32x4_t best_index = vdupq_n_u32(0);
    const uint32_t lane_offsets[4] = {0, 1, 2, 3};
    const uint32x4_t lanes = vld1q_u32(lane_offsets);
    // Eight centroids per step: one broadcast of -2 x[d] feeds two FMAs.
    for (; start + 8 <= count; start += 8) {
      float32x4_t score0 = vld1q_f32(norms + start), score1 = vld1q_f32(norms + start + 4);
      for (size_t d = 0; d < dim; ++d) {
        const float* row = by_dim + d * count + start;
        float32x4_t twice = vdupq_n_f32(-2.0f * x[d]);
        score0 = vfmaq_f32(score0, twice, vld1q_f32(row));
        score1 = vfmaq_f32(score1, twice, vld1q_f32(row + 4));
      }
      uint32x4_t index0 = vaddq_u32(lanes, vdupq_n_u32(static_cast<uint32_t>(start)));
      keep_better(score0, index0, best_scores, best_index);
      keep_better(score1, vaddq_u32(index0, vdupq_n_u32(4)), best_scores, best_index);
    }
    for (; start + 4 <= count; start += 4) {
      float32x4_t score = vld1q_f32(norms + start);
      for (size_t d = 0; d < dim; ++d)
        score = vfmaq_f32(score, vdupq_n_f32(-2.0f * x[d]), vld1q_f32(by_dim + d * count + start));
      keep_better(score, vaddq_u32(lanes, vdupq_n_u32(static_cast<uint32_t>(start))), best_scores, best_index);
    }
    float scores[4];
    uint32_t indices[4];
    vst1q_f32(scores, best_scores);
    vst1q_u32(indices, best_index);
    best = indices[0];
    best_score = scores[0];
    for (int lane = 1; lane < 4; ++lane)
      if (scores[lane] < best_score || (scores[lane] == best_score && indices[lane] < best)) {
        best_score = scores[lane];
        best = indices[lane];
      }
  }
  // Same fused multiply-add as the lanes: a centroid's score does not depend on whether it
  // lands in a lane or in the tail, so exact duplicates tie and the lowest index wins.
  for (; start < count; ++start) {
    float score = norms[start];
    for (size_t d = 0; d < dim; ++d) score = __builtin_fmaf(-2.0f * x[d], by_dim[d * count + start], score);
    if (start == 0 || score < best_score) {
      best_score = score;
      best = static_cast<uint32_t>(start);
    }
  }
  return best;
}

// ---- FastScan -------------------------------------------------------------------------------

// One group's lookups (tbl over its 16-entry table), widened into codes 0..7, 8..15, 16..23 and
// 24..31.
VECINDEX_NEON_INLINE void fastscan_group(const uint8_t* block, const uint8_t* table, uint16x8_t* sums) {
  uint8x16_t codes = vld1q_u8(block);
  uint8x16_t entries = vld1q_u8(table);
  uint8x16_t low = vqtbl1q_u8(entries, vandq_u8(codes, vdupq_n_u8(0x0F)));
  uint8x16_t high = vqtbl1q_u8(entries, vshrq_n_u8(codes, 4));
  sums[0] = vaddw_u8(sums[0], vget_low_u8(low));
  sums[1] = vaddw_high_u8(sums[1], low);
  sums[2] = vaddw_u8(sums[2], vget_low_u8(high));
  sums[3] = vaddw_high_u8(sums[3], high);
}

// Even and odd groups go to separate sums (as the AVX2 kernel's two lanes), so consecutive
// groups' widening adds do not wait on each other.
VECINDEX_NEON_KERNEL void fastscan32(const uint8_t* packed, const uint8_t* tables, size_t groups, uint16_t* out) {
  uint16x8_t even[4], odd[4];
  for (int i = 0; i < 4; ++i) even[i] = odd[i] = vdupq_n_u16(0);
  size_t g = 0;
  for (; g + 2 <= groups; g += 2) {
    fastscan_group(packed + 16 * g, tables + 16 * g, even);
    fastscan_group(packed + 16 * g + 16, tables + 16 * g + 16, odd);
  }
  if (g < groups) fastscan_group(packed + 16 * g, tables + 16 * g, even);
  for (int i = 0; i < 4; ++i) vst1q_u16(out + 8 * i, vaddq_u16(even[i], odd[i]));
}

// Constant-initialised POD: no constructor runs at load time.
// ---- SQ8: two codes against each other ----------------------------------------------------

// Eight codes widened to two vectors of four floats (exact: every byte is a float).
VECINDEX_NEON_INLINE void byte_floats(const uint8_t* codes, float32x4_t& low_half, float32x4_t& high_half) {
  uint16x8_t wide = vmovl_u8(vld1_u8(codes));
  low_half = vcvtq_f32_u32(vmovl_u16(vget_low_u16(wide)));
  high_half = vcvtq_f32_u32(vmovl_high_u16(wide));
}

// The pair kernels' shared walk: `add` folds 4 dimensions (both rows' codes as floats, with
// their low and step) into a chain, two chains over 8 dimensions a step; `add_one` a tail one.
template <class Add, class AddOne>
VECINDEX_NEON_INLINE float sq8_pair(const float* low, const float* step, const uint8_t* a, const uint8_t* b,
                                    size_t dim, Add add, AddOne add_one) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    float32x4_t a0, a1, b0, b1;
    byte_floats(a + i, a0, a1);
    byte_floats(b + i, b0, b1);
    s0 = add(s0, low + i, step + i, a0, b0);
    s1 = add(s1, low + i + 4, step + i + 4, a1, b1);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) tail += add_one(low[i], step[i], static_cast<float>(a[i]), static_cast<float>(b[i]));
  return vaddvq_f32(vaddq_f32(s0, s1)) + tail;
}

// Both rows decoded in registers (fma of step and code onto low), then multiplied.
VECINDEX_NEON_KERNEL float sq8_pair_dot(const float* low, const float* step, const uint8_t* a, const uint8_t* b,
                                        size_t dim) {
  return sq8_pair(
      low, step, a, b, dim,
      [](float32x4_t acc, const float* l, const float* s, float32x4_t x, float32x4_t y) {
        float32x4_t lows = vld1q_f32(l), steps = vld1q_f32(s);
        return vfmaq_f32(acc, vfmaq_f32(lows, steps, x), vfmaq_f32(lows, steps, y));
      },
      [](float l, float s, float x, float y) { return (l + s * x) * (l + s * y); });
}

// step * (a - b) per dimension, squared; the codes' difference is exact in float.
VECINDEX_NEON_KERNEL float sq8_pair_l2sq(const float* low, const float* step, const uint8_t* a, const uint8_t* b,
                                         size_t dim) {
  return sq8_pair(
      low, step, a, b, dim,
      [](float32x4_t acc, const float*, const float* s, float32x4_t x, float32x4_t y) {
        float32x4_t d = vmulq_f32(vld1q_f32(s), vsubq_f32(x, y));
        return vfmaq_f32(acc, d, d);
      },
      [](float, float s, float x, float y) {
        float d = s * (x - y);
        return d * d;
      });
}

const CodecKernelTable kNeonCodecTable = {
    Level::neon,
    f16_dot,
    f16_l2sq,
    bf16_dot,
    bf16_l2sq,
    weighted_bytes,
    weighted_bytes_i16,
    weighted_bytes_i16_x4,
    weighted_nibbles_i16,
    weighted_nibbles_i16_x4,
    table_lookup,
    popcount,
    and_popcount,
    xor_popcount,
    bitplane_dot,
    nearest_centroid,
    fastscan32,
    sq8_pair_dot,
    sq8_pair_l2sq,
};

}  // namespace
}  // namespace vecindex::simd::neon_impl

namespace vecindex::simd {
const CodecKernelTable* neon_codec_kernels() { return &neon_impl::kNeonCodecTable; }
}  // namespace vecindex::simd

#endif  // defined(__aarch64__)
