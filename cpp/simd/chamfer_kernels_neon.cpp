// NEON Chamfer kernel for aarch64: one query row against four document rows at a time, four
// lanes, tails in scalar code.
//
// Built only on aarch64 (CMakeLists.txt), where NEON is part of the baseline ISA; the section
// keeps the layout the same as the x86 kernel files.
#include <arm_neon.h>

#include "simd/chamfer_kernel_table.h"

#define VECINDEX_NEON_KERNEL VECINDEX_ISA_SECTION(neon)
#define VECINDEX_NEON_HELPER inline __attribute__((always_inline))

namespace vecindex::simd::neon_chamfer_impl {
namespace {

// Dot products of query row a with document rows d0..d3, as the four lanes of the result.
VECINDEX_NEON_HELPER float32x4_t dots_1x4(const float* a, const float* d0, const float* d1, const float* d2,
                                          const float* d3, size_t dim) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f), s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float32x4_t q = vld1q_f32(a + i);
    s0 = vfmaq_f32(s0, q, vld1q_f32(d0 + i));
    s1 = vfmaq_f32(s1, q, vld1q_f32(d1 + i));
    s2 = vfmaq_f32(s2, q, vld1q_f32(d2 + i));
    s3 = vfmaq_f32(s3, q, vld1q_f32(d3 + i));
  }
  float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
  for (; i < dim; ++i) {
    t0 += a[i] * d0[i];
    t1 += a[i] * d1[i];
    t2 += a[i] * d2[i];
    t3 += a[i] * d3[i];
  }
  float sums[4] = {vaddvq_f32(s0) + t0, vaddvq_f32(s1) + t1, vaddvq_f32(s2) + t2, vaddvq_f32(s3) + t3};
  return vld1q_f32(sums);
}

VECINDEX_NEON_HELPER float dot_1x1(const float* a, const float* d, size_t dim) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(d + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(d + i + 4));
  }
  for (; i + 4 <= dim; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(d + i));
  float tail = 0.0f;
  for (; i < dim; ++i) tail += a[i] * d[i];
  return vaddvq_f32(vaddq_f32(s0, s1)) + tail;
}

VECINDEX_NEON_KERNEL float chamfer(const float* query, size_t query_count, const float* doc, size_t doc_count,
                                   size_t dim) {
  float total = 0.0f;
  for (size_t q = 0; q < query_count; ++q) {
    const float* a = query + q * dim;
    float32x4_t best4 = vdupq_n_f32(-__builtin_huge_valf());
    size_t d = 0;
    for (; d + 4 <= doc_count; d += 4) {
      const float* row = doc + d * dim;
      best4 = vmaxq_f32(best4, dots_1x4(a, row, row + dim, row + 2 * dim, row + 3 * dim, dim));
    }
    float best = vmaxvq_f32(best4);
    for (; d < doc_count; ++d) {
      float value = dot_1x1(a, doc + d * dim, dim);
      if (value > best) best = value;
    }
    total += best;
  }
  return total;
}

VECINDEX_NEON_KERNEL void decode_f16(const uint16_t* halves, size_t count, float* out) {
  size_t i = 0;
  for (; i + 4 <= count; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(halves + i))));
  for (; i < count; ++i) out[i] = vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(halves[i]))), 0);
}

// Constant-initialised POD: no constructor runs at load time.
const ChamferKernelTable kNeonTable = {Level::neon, chamfer, decode_f16};

}  // namespace
}  // namespace vecindex::simd::neon_chamfer_impl

namespace vecindex::simd {
const ChamferKernelTable* neon_chamfer_kernels() { return &neon_chamfer_impl::kNeonTable; }
}  // namespace vecindex::simd
