// AVX-512 kernels: 16 floats per register, unaligned loads, masked loads for the tail.
//
// Compiled with -mavx512f/bw/vl/dq (see CMakeLists.txt). Same rules as kernels_avx2.cpp:
// only kernels, each always inlined or placed in the "vecindex_isa_avx512" section.
#include <immintrin.h>

#include "simd/kernel_table.h"

#define VECINDEX_AVX512_KERNEL VECINDEX_ISA_SECTION(avx512)
#define VECINDEX_AVX512_HELPER inline __attribute__((always_inline))

namespace vecindex::simd::avx512_impl {
namespace {

// First `remaining` lanes set (remaining < 16). Masked-out lanes read as zero and never fault.
VECINDEX_AVX512_HELPER __mmask16 tail_mask(size_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

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
    __mmask16 mask = tail_mask(dim - i);
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
    __mmask16 mask = tail_mask(dim - i);
    s1 = _mm512_fmadd_ps(load_tail(a + i, mask), load_tail(b + i, mask), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

// Four vectors in lockstep so four cache-miss streams are in flight (see kernels_avx2.cpp).
VECINDEX_AVX512_KERNEL void l2sq_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
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
    __mmask16 mask = tail_mask(dim - i);
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
  out[0] = _mm512_reduce_add_ps(s0);
  out[1] = _mm512_reduce_add_ps(s1);
  out[2] = _mm512_reduce_add_ps(s2);
  out[3] = _mm512_reduce_add_ps(s3);
}

VECINDEX_AVX512_KERNEL void dot_x4(const float* q, const float* const* xs, size_t dim, float* out) {
  const float *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m512 qv = _mm512_loadu_ps(q + i);
    s0 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x0 + i), s0);
    s1 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x1 + i), s1);
    s2 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x2 + i), s2);
    s3 = _mm512_fmadd_ps(qv, _mm512_loadu_ps(x3 + i), s3);
  }
  if (i < dim) {
    __mmask16 mask = tail_mask(dim - i);
    __m512 qv = load_tail(q + i, mask);
    s0 = _mm512_fmadd_ps(qv, load_tail(x0 + i, mask), s0);
    s1 = _mm512_fmadd_ps(qv, load_tail(x1 + i, mask), s1);
    s2 = _mm512_fmadd_ps(qv, load_tail(x2 + i, mask), s2);
    s3 = _mm512_fmadd_ps(qv, load_tail(x3 + i, mask), s3);
  }
  out[0] = _mm512_reduce_add_ps(s0);
  out[1] = _mm512_reduce_add_ps(s1);
  out[2] = _mm512_reduce_add_ps(s2);
  out[3] = _mm512_reduce_add_ps(s3);
}

// Constant-initialised POD: no constructor runs at load time.
const KernelTable kAvx512Table = {Level::avx512, l2sq, dot, l2sq_x4, dot_x4};

}  // namespace
}  // namespace vecindex::simd::avx512_impl

namespace vecindex::simd {
const KernelTable* avx512_kernels() { return &avx512_impl::kAvx512Table; }
}  // namespace vecindex::simd
