// AVX2 + FMA kernels: 8 floats per register, unaligned loads, masked loads for the tail.
//
// Compiled with -mavx2 -mfma (see CMakeLists.txt). Holds only kernels: every function is
// either always inlined or placed in the "vecindex_isa_avx2" section, and nothing here is
// run before dispatch.cpp has checked cpuid.
#include <immintrin.h>

#include "simd/kernel_table.h"

#define VECINDEX_AVX2_KERNEL VECINDEX_ISA_SECTION(avx2)
#define VECINDEX_AVX2_HELPER inline __attribute__((always_inline))

namespace vecindex::simd::avx2_impl {
namespace {

// Sliding window: loading 8 ints at kTailMask + 8 - r gives r leading all-ones lanes.
alignas(32) const int kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

VECINDEX_AVX2_HELPER __m256i tail_mask(size_t remaining) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - remaining));
}

// Masked-out lanes read as zero and never fault, so a tail next to an unmapped page is safe.
VECINDEX_AVX2_HELPER __m256 load_tail(const float* p, __m256i mask) { return _mm256_maskload_ps(p, mask); }

VECINDEX_AVX2_HELPER float horizontal_sum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 0x55));
  return _mm_cvtss_f32(x);
}

// Reduces four accumulators at once: out[j] = sum of the lanes of s_j.
VECINDEX_AVX2_HELPER void horizontal_sum4(__m256 s0, __m256 s1, __m256 s2, __m256 s3, float* out) {
  // hadd twice leaves per-vector partial sums in each 128-bit half; adding the halves finishes.
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
}

VECINDEX_AVX2_KERNEL float l2sq(const float* a, const float* b, size_t dim) {
  // Four accumulators hide the FMA latency; the order of additions is fixed, so results are
  // deterministic for a given dim.
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
    __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
  }
  for (; i + 8 <= dim; i += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(d, d, s0);
  }
  if (i < dim) {
    __m256i mask = tail_mask(dim - i);
    __m256 d = _mm256_sub_ps(load_tail(a + i, mask), load_tail(b + i, mask));
    s1 = _mm256_fmadd_ps(d, d, s1);
  }
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

VECINDEX_AVX2_KERNEL float dot(const float* a, const float* b, size_t dim) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= dim; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  if (i < dim) {
    __m256i mask = tail_mask(dim - i);
    s1 = _mm256_fmadd_ps(load_tail(a + i, mask), load_tail(b + i, mask), s1);
  }
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

// The x4 kernels walk four vectors in lockstep: each step issues loads to four unrelated
// addresses, so up to four cache misses are outstanding instead of one.
VECINDEX_AVX2_KERNEL void l2sq_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  // A second set of accumulators for the 16-wide main loop: four FMA chains alone would be
  // latency-bound, eight keep the load ports busy.
  __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps();
  __m256 t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256 qa = _mm256_loadu_ps(q + i), qb = _mm256_loadu_ps(q + i + 8);
    __m256 d0 = _mm256_sub_ps(qa, _mm256_loadu_ps(x0 + i));
    __m256 d1 = _mm256_sub_ps(qa, _mm256_loadu_ps(x1 + i));
    __m256 d2 = _mm256_sub_ps(qa, _mm256_loadu_ps(x2 + i));
    __m256 d3 = _mm256_sub_ps(qa, _mm256_loadu_ps(x3 + i));
    __m256 e0 = _mm256_sub_ps(qb, _mm256_loadu_ps(x0 + i + 8));
    __m256 e1 = _mm256_sub_ps(qb, _mm256_loadu_ps(x1 + i + 8));
    __m256 e2 = _mm256_sub_ps(qb, _mm256_loadu_ps(x2 + i + 8));
    __m256 e3 = _mm256_sub_ps(qb, _mm256_loadu_ps(x3 + i + 8));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
    t0 = _mm256_fmadd_ps(e0, e0, t0);
    t1 = _mm256_fmadd_ps(e1, e1, t1);
    t2 = _mm256_fmadd_ps(e2, e2, t2);
    t3 = _mm256_fmadd_ps(e3, e3, t3);
  }
  for (; i + 8 <= dim; i += 8) {
    __m256 qv = _mm256_loadu_ps(q + i);
    __m256 d0 = _mm256_sub_ps(qv, _mm256_loadu_ps(x0 + i));
    __m256 d1 = _mm256_sub_ps(qv, _mm256_loadu_ps(x1 + i));
    __m256 d2 = _mm256_sub_ps(qv, _mm256_loadu_ps(x2 + i));
    __m256 d3 = _mm256_sub_ps(qv, _mm256_loadu_ps(x3 + i));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
  }
  if (i < dim) {
    __m256i mask = tail_mask(dim - i);
    __m256 qv = load_tail(q + i, mask);
    __m256 d0 = _mm256_sub_ps(qv, load_tail(x0 + i, mask));
    __m256 d1 = _mm256_sub_ps(qv, load_tail(x1 + i, mask));
    __m256 d2 = _mm256_sub_ps(qv, load_tail(x2 + i, mask));
    __m256 d3 = _mm256_sub_ps(qv, load_tail(x3 + i, mask));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
    s2 = _mm256_fmadd_ps(d2, d2, s2);
    s3 = _mm256_fmadd_ps(d3, d3, s3);
  }
  horizontal_sum4(_mm256_add_ps(s0, t0), _mm256_add_ps(s1, t1), _mm256_add_ps(s2, t2),
                  _mm256_add_ps(s3, t3), out);
}

VECINDEX_AVX2_KERNEL void dot_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps();
  __m256 t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m256 qa = _mm256_loadu_ps(q + i), qb = _mm256_loadu_ps(q + i + 8);
    s0 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(x0 + i), s0);
    s1 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(x1 + i), s1);
    s2 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(x2 + i), s2);
    s3 = _mm256_fmadd_ps(qa, _mm256_loadu_ps(x3 + i), s3);
    t0 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(x0 + i + 8), t0);
    t1 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(x1 + i + 8), t1);
    t2 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(x2 + i + 8), t2);
    t3 = _mm256_fmadd_ps(qb, _mm256_loadu_ps(x3 + i + 8), t3);
  }
  for (; i + 8 <= dim; i += 8) {
    __m256 qv = _mm256_loadu_ps(q + i);
    s0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(x0 + i), s0);
    s1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(x1 + i), s1);
    s2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(x2 + i), s2);
    s3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(x3 + i), s3);
  }
  if (i < dim) {
    __m256i mask = tail_mask(dim - i);
    __m256 qv = load_tail(q + i, mask);
    s0 = _mm256_fmadd_ps(qv, load_tail(x0 + i, mask), s0);
    s1 = _mm256_fmadd_ps(qv, load_tail(x1 + i, mask), s1);
    s2 = _mm256_fmadd_ps(qv, load_tail(x2 + i, mask), s2);
    s3 = _mm256_fmadd_ps(qv, load_tail(x3 + i, mask), s3);
  }
  horizontal_sum4(_mm256_add_ps(s0, t0), _mm256_add_ps(s1, t1), _mm256_add_ps(s2, t2),
                  _mm256_add_ps(s3, t3), out);
}

// Constant-initialised POD: no constructor runs at load time.
const KernelTable kAvx2Table = {Level::avx2, l2sq, dot, l2sq_x4, dot_x4};

}  // namespace
}  // namespace vecindex::simd::avx2_impl

namespace vecindex::simd {
const KernelTable* avx2_kernels() { return &avx2_impl::kAvx2Table; }
}  // namespace vecindex::simd
