// AVX-512 kernels: 16 floats per register, unaligned loads, masked loads for the tail.
//
// Compiled with VECINDEX_AVX512_FLAGS (see CMakeLists.txt). Same rules as kernels_avx2.cpp:
// only kernels, each always inlined or placed in the "vecindex_isa_avx512" section. Each
// kernel keeps its AVX2 counterpart's structure (accumulator chains, loop steps, reductions)
// at twice the width, so a tuning of one applies to the other; keep them in step.
#include <immintrin.h>

#include "simd/avx512_helpers.h"
#include "simd/kernel_table.h"

#define VECINDEX_AVX512_KERNEL VECINDEX_ISA_SECTION(avx512)

namespace vecindex::simd::avx512_impl {
namespace {

using avx512_helpers::horizontal_sum4;
using avx512_helpers::tail_mask16;

VECINDEX_AVX512_HELPER __m512 load_tail(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }

VECINDEX_AVX512_KERNEL float l2sq(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
    __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
  }
  for (; i + 16 <= dim; i += 16) {
    __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < dim) {
    __mmask16 mask = tail_mask16(dim - i);
    __m512 d = _mm512_sub_ps(load_tail(a + i, mask), load_tail(b + i, mask));
    s1 = _mm512_fmadd_ps(d, d, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

VECINDEX_AVX512_KERNEL float dot(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i + 16 <= dim; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < dim) {
    __mmask16 mask = tail_mask16(dim - i);
    s1 = _mm512_fmadd_ps(load_tail(a + i, mask), load_tail(b + i, mask), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// The x4 kernels walk four vectors in lockstep so four cache-miss streams are in flight, with
// kernels_avx2.cpp's structure: eight FMA chains in the 32-wide main loop (four alone would be
// latency-bound), four in the 16-wide step, a masked tail, and one combined reduction.
VECINDEX_AVX512_KERNEL void l2sq_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  __m512 t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps();
  __m512 t2 = _mm512_setzero_ps(), t3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 qa = _mm512_loadu_ps(q + i), qb = _mm512_loadu_ps(q + i + 16);
    __m512 d0 = _mm512_sub_ps(qa, _mm512_loadu_ps(x0 + i));
    __m512 d1 = _mm512_sub_ps(qa, _mm512_loadu_ps(x1 + i));
    __m512 d2 = _mm512_sub_ps(qa, _mm512_loadu_ps(x2 + i));
    __m512 d3 = _mm512_sub_ps(qa, _mm512_loadu_ps(x3 + i));
    __m512 e0 = _mm512_sub_ps(qb, _mm512_loadu_ps(x0 + i + 16));
    __m512 e1 = _mm512_sub_ps(qb, _mm512_loadu_ps(x1 + i + 16));
    __m512 e2 = _mm512_sub_ps(qb, _mm512_loadu_ps(x2 + i + 16));
    __m512 e3 = _mm512_sub_ps(qb, _mm512_loadu_ps(x3 + i + 16));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
    t0 = _mm512_fmadd_ps(e0, e0, t0);
    t1 = _mm512_fmadd_ps(e1, e1, t1);
    t2 = _mm512_fmadd_ps(e2, e2, t2);
    t3 = _mm512_fmadd_ps(e3, e3, t3);
  }
  for (; i + 16 <= dim; i += 16) {
    __m512 qv = _mm512_loadu_ps(q + i);
    __m512 d0 = _mm512_sub_ps(qv, _mm512_loadu_ps(x0 + i));
    __m512 d1 = _mm512_sub_ps(qv, _mm512_loadu_ps(x1 + i));
    __m512 d2 = _mm512_sub_ps(qv, _mm512_loadu_ps(x2 + i));
    __m512 d3 = _mm512_sub_ps(qv, _mm512_loadu_ps(x3 + i));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
  }
  if (i < dim) {
    __mmask16 mask = tail_mask16(dim - i);
    __m512 qv = load_tail(q + i, mask);
    __m512 d0 = _mm512_sub_ps(qv, load_tail(x0 + i, mask));
    __m512 d1 = _mm512_sub_ps(qv, load_tail(x1 + i, mask));
    __m512 d2 = _mm512_sub_ps(qv, load_tail(x2 + i, mask));
    __m512 d3 = _mm512_sub_ps(qv, load_tail(x3 + i, mask));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
    s2 = _mm512_fmadd_ps(d2, d2, s2);
    s3 = _mm512_fmadd_ps(d3, d3, s3);
  }
  _mm_storeu_ps(out, horizontal_sum4(_mm512_add_ps(s0, t0), _mm512_add_ps(s1, t1), _mm512_add_ps(s2, t2),
                                     _mm512_add_ps(s3, t3)));
}

VECINDEX_AVX512_KERNEL void dot_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  __m512 t0 = _mm512_setzero_ps(), t1 = _mm512_setzero_ps();
  __m512 t2 = _mm512_setzero_ps(), t3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    __m512 qa = _mm512_loadu_ps(q + i), qb = _mm512_loadu_ps(q + i + 16);
    s0 = _mm512_fmadd_ps(qa, _mm512_loadu_ps(x0 + i), s0);
    s1 = _mm512_fmadd_ps(qa, _mm512_loadu_ps(x1 + i), s1);
    s2 = _mm512_fmadd_ps(qa, _mm512_loadu_ps(x2 + i), s2);
    s3 = _mm512_fmadd_ps(qa, _mm512_loadu_ps(x3 + i), s3);
    t0 = _mm512_fmadd_ps(qb, _mm512_loadu_ps(x0 + i + 16), t0);
    t1 = _mm512_fmadd_ps(qb, _mm512_loadu_ps(x1 + i + 16), t1);
    t2 = _mm512_fmadd_ps(qb, _mm512_loadu_ps(x2 + i + 16), t2);
    t3 = _mm512_fmadd_ps(qb, _mm512_loadu_ps(x3 + i + 16), t3);
  }
  for (; i + 16 <= dim; i += 16) {
    __m512 qv = _mm512_loadu_ps(q + i);
    s0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x0 + i), s0);
    s1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x1 + i), s1);
    s2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x2 + i), s2);
    s3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x3 + i), s3);
  }
  if (i < dim) {
    __mmask16 mask = tail_mask16(dim - i);
    __m512 qv = load_tail(q + i, mask);
    s0 = _mm512_fmadd_ps(qv, load_tail(x0 + i, mask), s0);
    s1 = _mm512_fmadd_ps(qv, load_tail(x1 + i, mask), s1);
    s2 = _mm512_fmadd_ps(qv, load_tail(x2 + i, mask), s2);
    s3 = _mm512_fmadd_ps(qv, load_tail(x3 + i, mask), s3);
  }
  _mm_storeu_ps(out, horizontal_sum4(_mm512_add_ps(s0, t0), _mm512_add_ps(s1, t1), _mm512_add_ps(s2, t2),
                                     _mm512_add_ps(s3, t3)));
}

// Constant-initialised POD: no constructor runs at load time.
const KernelTable kAvx512Table = {Level::avx512, l2sq, dot, l2sq_x4, dot_x4};

}  // namespace
}  // namespace vecindex::simd::avx512_impl

namespace vecindex::simd {
const KernelTable* avx512_kernels() { return &avx512_impl::kAvx512Table; }
}  // namespace vecindex::simd
