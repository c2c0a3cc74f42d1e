// AVX-512 Chamfer kernel: the AVX2 kernel's structure (two query rows by four document rows,
// eight FMA chains, one combined reduction per four sums) with 16 lanes and mask-register tails.
//
// Compiled with AVX-512 flags (see CMakeLists.txt). Holds only kernels: every function is
// either always inlined or placed in the "vecindex_isa_avx512" section, and nothing here runs
// before chamfer_dispatch.cpp has checked cpuid.
#include <immintrin.h>

#include "simd/avx512_helpers.h"
#include "simd/chamfer_kernel_table.h"

#define VECINDEX_AVX512_KERNEL VECINDEX_ISA_SECTION(avx512)

namespace vecindex::simd::avx512_chamfer_impl {
namespace {

using avx512_helpers::horizontal_sum4;
using avx512_helpers::tail_mask16;

VECINDEX_AVX512_HELPER float horizontal_max4(__m128 v) {
  v = _mm_max_ps(v, _mm_movehl_ps(v, v));
  v = _mm_max_ss(v, _mm_shuffle_ps(v, v, 0x55));
  return _mm_cvtss_f32(v);
}

VECINDEX_AVX512_HELPER void dots_2x4(const float* a, const float* b, const float* d0, const float* d1,
                                     const float* d2, const float* d3, size_t dim, __m128* out_a, __m128* out_b) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    __m512 qa = _mm512_loadu_ps(a + i), qb = _mm512_loadu_ps(b + i);
    __m512 x = _mm512_loadu_ps(d0 + i);
    a0 = _mm512_fmadd_ps(qa, x, a0);
    b0 = _mm512_fmadd_ps(qb, x, b0);
    x = _mm512_loadu_ps(d1 + i);
    a1 = _mm512_fmadd_ps(qa, x, a1);
    b1 = _mm512_fmadd_ps(qb, x, b1);
    x = _mm512_loadu_ps(d2 + i);
    a2 = _mm512_fmadd_ps(qa, x, a2);
    b2 = _mm512_fmadd_ps(qb, x, b2);
    x = _mm512_loadu_ps(d3 + i);
    a3 = _mm512_fmadd_ps(qa, x, a3);
    b3 = _mm512_fmadd_ps(qb, x, b3);
  }
  if (i < dim) {
    // Masked-out lanes read as zero and never fault.
    __mmask16 mask = tail_mask16(dim - i);
    __m512 qa = _mm512_maskz_loadu_ps(mask, a + i), qb = _mm512_maskz_loadu_ps(mask, b + i);
    __m512 x = _mm512_maskz_loadu_ps(mask, d0 + i);
    a0 = _mm512_fmadd_ps(qa, x, a0);
    b0 = _mm512_fmadd_ps(qb, x, b0);
    x = _mm512_maskz_loadu_ps(mask, d1 + i);
    a1 = _mm512_fmadd_ps(qa, x, a1);
    b1 = _mm512_fmadd_ps(qb, x, b1);
    x = _mm512_maskz_loadu_ps(mask, d2 + i);
    a2 = _mm512_fmadd_ps(qa, x, a2);
    b2 = _mm512_fmadd_ps(qb, x, b2);
    x = _mm512_maskz_loadu_ps(mask, d3 + i);
    a3 = _mm512_fmadd_ps(qa, x, a3);
    b3 = _mm512_fmadd_ps(qb, x, b3);
  }
  *out_a = horizontal_sum4(a0, a1, a2, a3);
  *out_b = horizontal_sum4(b0, b1, b2, b3);
}

VECINDEX_AVX512_HELPER float dot_1x1(const float* a, const float* d, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(d + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(d + i + 16), s1);
  }
  for (; i + 16 <= dim; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(d + i), s0);
  if (i < dim) {
    __mmask16 mask = tail_mask16(dim - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, d + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

VECINDEX_AVX512_HELPER void best_pair(const float* a, const float* b, const float* doc, size_t doc_count, size_t dim,
                                      float* best_a, float* best_b) {
  const __m128 lowest = _mm_set1_ps(-__builtin_huge_valf());
  __m128 max_a = lowest, max_b = lowest;
  size_t d = 0;
  for (; d + 4 <= doc_count; d += 4) {
    const float* row = doc + d * dim;
    __m128 dots_a, dots_b;
    dots_2x4(a, b, row, row + dim, row + 2 * dim, row + 3 * dim, dim, &dots_a, &dots_b);
    max_a = _mm_max_ps(max_a, dots_a);
    max_b = _mm_max_ps(max_b, dots_b);
  }
  float result_a = horizontal_max4(max_a), result_b = horizontal_max4(max_b);
  for (; d < doc_count; ++d) {
    float value_a = dot_1x1(a, doc + d * dim, dim);
    float value_b = dot_1x1(b, doc + d * dim, dim);
    if (value_a > result_a) result_a = value_a;
    if (value_b > result_b) result_b = value_b;
  }
  *best_a = result_a;
  *best_b = result_b;
}

VECINDEX_AVX512_KERNEL float chamfer(const float* query, size_t query_count, const float* doc, size_t doc_count,
                                     size_t dim) {
  float total = 0;
  size_t q = 0;
  for (; q + 2 <= query_count; q += 2) {
    float best_a, best_b;
    best_pair(query + q * dim, query + (q + 1) * dim, doc, doc_count, dim, &best_a, &best_b);
    total += best_a;
    total += best_b;
  }
  if (q < query_count) {
    float best_a, best_b;
    best_pair(query + q * dim, query + q * dim, doc, doc_count, dim, &best_a, &best_b);
    total += best_a;
  }
  return total;
}

VECINDEX_AVX512_KERNEL void decode_f16(const uint16_t* halves, size_t count, float* out) {
  size_t i = 0;
  for (; i + 16 <= count; i += 16)
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(halves + i))));
  if (i < count) {
    // The tail as one masked load and store: masked-out lanes neither fault nor get written.
    __mmask16 mask = tail_mask16(count - i);
    _mm512_mask_storeu_ps(out + i, mask, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, halves + i)));
  }
}

// Constant-initialised POD: no constructor runs at load time.
const ChamferKernelTable kAvx512Table = {Level::avx512, chamfer, decode_f16};

}  // namespace
}  // namespace vecindex::simd::avx512_chamfer_impl

namespace vecindex::simd {
const ChamferKernelTable* avx512_chamfer_kernels() { return &avx512_chamfer_impl::kAvx512Table; }
}  // namespace vecindex::simd
