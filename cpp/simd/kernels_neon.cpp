// NEON kernels for aarch64: 4 floats per register, tails done in scalar code.
//
// Built only on aarch64 (CMakeLists.txt), where NEON is part of the baseline ISA; the
// section keeps the layout the same as the x86 kernel files.
#include <arm_neon.h>

#include "simd/kernel_table.h"

#define VECINDEX_NEON_KERNEL VECINDEX_ISA_SECTION(neon)

namespace vecindex::simd::neon_impl {
namespace {

VECINDEX_NEON_KERNEL float l2sq(const float* a, const float* b, size_t dim) {
  // Four accumulators hide the FMA latency (about 4 cycles on common cores).
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    s0 = vfmaq_f32(s0, d0, d0);
    s1 = vfmaq_f32(s1, d1, d1);
    s2 = vfmaq_f32(s2, d2, d2);
    s3 = vfmaq_f32(s3, d3, d3);
  }
  for (; i + 4 <= dim; i += 4) {
    float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
    s0 = vfmaq_f32(s0, d, d);
  }
  float tail = 0.0f;
  for (; i < dim; ++i) {
    float d = a[i] - b[i];
    tail += d * d;
  }
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

VECINDEX_NEON_KERNEL float dot(const float* a, const float* b, size_t dim) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i + 4 <= dim; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float tail = 0.0f;
  for (; i < dim; ++i) tail += a[i] * b[i];
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tail;
}

// Four vectors in lockstep so four cache-miss streams are in flight.
VECINDEX_NEON_KERNEL void l2sq_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float32x4_t qv = vld1q_f32(q + i);
    float32x4_t d0 = vsubq_f32(qv, vld1q_f32(x0 + i));
    float32x4_t d1 = vsubq_f32(qv, vld1q_f32(x1 + i));
    float32x4_t d2 = vsubq_f32(qv, vld1q_f32(x2 + i));
    float32x4_t d3 = vsubq_f32(qv, vld1q_f32(x3 + i));
    s0 = vfmaq_f32(s0, d0, d0);
    s1 = vfmaq_f32(s1, d1, d1);
    s2 = vfmaq_f32(s2, d2, d2);
    s3 = vfmaq_f32(s3, d3, d3);
  }
  float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
  for (; i < dim; ++i) {
    float d0 = q[i] - x0[i], d1 = q[i] - x1[i], d2 = q[i] - x2[i], d3 = q[i] - x3[i];
    t0 += d0 * d0;
    t1 += d1 * d1;
    t2 += d2 * d2;
    t3 += d3 * d3;
  }
  out[0] = vaddvq_f32(s0) + t0;
  out[1] = vaddvq_f32(s1) + t1;
  out[2] = vaddvq_f32(s2) + t2;
  out[3] = vaddvq_f32(s3) + t3;
}

VECINDEX_NEON_KERNEL void dot_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  float32x4_t s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float32x4_t qv = vld1q_f32(q + i);
    s0 = vfmaq_f32(s0, qv, vld1q_f32(x0 + i));
    s1 = vfmaq_f32(s1, qv, vld1q_f32(x1 + i));
    s2 = vfmaq_f32(s2, qv, vld1q_f32(x2 + i));
    s3 = vfmaq_f32(s3, qv, vld1q_f32(x3 + i));
  }
  float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
  for (; i < dim; ++i) {
    t0 += q[i] * x0[i];
    t1 += q[i] * x1[i];
    t2 += q[i] * x2[i];
    t3 += q[i] * x3[i];
  }
  out[0] = vaddvq_f32(s0) + t0;
  out[1] = vaddvq_f32(s1) + t1;
  out[2] = vaddvq_f32(s2) + t2;
  out[3] = vaddvq_f32(s3) + t3;
}

// Constant-initialised POD: no constructor runs at load time.
const KernelTable kNeonTable = {Level::neon, l2sq, dot, l2sq_x4, dot_x4};

}  // namespace
}  // namespace vecindex::simd::neon_impl

namespace vecindex::simd {
const KernelTable* neon_kernels() { return &neon_impl::kNeonTable; }
}  // namespace vecindex::simd
