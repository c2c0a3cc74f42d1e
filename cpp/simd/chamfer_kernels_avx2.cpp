// AVX2 + FMA Chamfer kernel: dot products in tiles of two query rows by four document rows,
// so each loaded document vector feeds two FMAs and eight sums are in flight.
//
// Compiled with -mavx2 -mfma (see CMakeLists.txt). Holds only kernels: every function is
// either always inlined or placed in the "vecindex_isa_avx2" section, and nothing here runs
// before chamfer_dispatch.cpp has checked cpuid.
#include <immintrin.h>

#include "simd/chamfer_kernel_table.h"

#define VECINDEX_AVX2_KERNEL VECINDEX_ISA_SECTION(avx2)
#define VECINDEX_AVX2_HELPER inline __attribute__((always_inline))

namespace vecindex::simd::avx2_chamfer_impl {
namespace {

// Sliding window: loading 8 ints at kTailMask + 8 - r gives r leading all-ones lanes.
alignas(32) const int kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

VECINDEX_AVX2_HELPER __m256i tail_mask(size_t remaining) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - remaining));
}

VECINDEX_AVX2_HELPER float horizontal_sum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 0x55));
  return _mm_cvtss_f32(x);
}

// out[j] = sum of the lanes of s_j.
VECINDEX_AVX2_HELPER __m128 horizontal_sum4(__m256 s0, __m256 s1, __m256 s2, __m256 s3) {
  __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// Largest lane of v.
VECINDEX_AVX2_HELPER float horizontal_max4(__m128 v) {
  v = _mm_max_ps(v, _mm_movehl_ps(v, v));
  v = _mm_max_ss(v, _mm_shuffle_ps(v, v, 0x55));
  return _mm_cvtss_f32(v);
}

// Dot products of query rows a and b with document rows d0..d3: lanes of *out_a and *out_b.
VECINDEX_AVX2_HELPER void dots_2x4(const float* a, const float* b, const float* d0, const float* d1,
                                   const float* d2, const float* d3, size_t dim, __m128* out_a, __m128* out_b) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), b2 = _mm256_setzero_ps(), b3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    __m256 qa = _mm256_loadu_ps(a + i), qb = _mm256_loadu_ps(b + i);
    __m256 x = _mm256_loadu_ps(d0 + i);
    a0 = _mm256_fmadd_ps(qa, x, a0);
    b0 = _mm256_fmadd_ps(qb, x, b0);
    x = _mm256_loadu_ps(d1 + i);
    a1 = _mm256_fmadd_ps(qa, x, a1);
    b1 = _mm256_fmadd_ps(qb, x, b1);
    x = _mm256_loadu_ps(d2 + i);
    a2 = _mm256_fmadd_ps(qa, x, a2);
    b2 = _mm256_fmadd_ps(qb, x, b2);
    x = _mm256_loadu_ps(d3 + i);
    a3 = _mm256_fmadd_ps(qa, x, a3);
    b3 = _mm256_fmadd_ps(qb, x, b3);
  }
  if (i < dim) {
    // Masked-out lanes read as zero and never fault, so a tail next to an unmapped page is safe.
    __m256i mask = tail_mask(dim - i);
    __m256 qa = _mm256_maskload_ps(a + i, mask), qb = _mm256_maskload_ps(b + i, mask);
    __m256 x = _mm256_maskload_ps(d0 + i, mask);
    a0 = _mm256_fmadd_ps(qa, x, a0);
    b0 = _mm256_fmadd_ps(qb, x, b0);
    x = _mm256_maskload_ps(d1 + i, mask);
    a1 = _mm256_fmadd_ps(qa, x, a1);
    b1 = _mm256_fmadd_ps(qb, x, b1);
    x = _mm256_maskload_ps(d2 + i, mask);
    a2 = _mm256_fmadd_ps(qa, x, a2);
    b2 = _mm256_fmadd_ps(qb, x, b2);
    x = _mm256_maskload_ps(d3 + i, mask);
    a3 = _mm256_fmadd_ps(qa, x, a3);
    b3 = _mm256_fmadd_ps(qb, x, b3);
  }
  *out_a = horizontal_sum4(a0, a1, a2, a3);
  *out_b = horizontal_sum4(b0, b1, b2, b3);
}

VECINDEX_AVX2_HELPER float dot_1x1(const float* a, const float* d, size_t dim) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(d + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(d + i + 8), s1);
  }
  for (; i + 8 <= dim; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(d + i), s0);
  if (i < dim) {
    __m256i mask = tail_mask(dim - i);
    s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(d + i, mask), s1);
  }
  return horizontal_sum(_mm256_add_ps(s0, s1));
}

// Best dot product of query rows a and b over all document rows, into *best_a and *best_b.
// With a single query row the caller passes it twice; the duplicate work is only the tail.
VECINDEX_AVX2_HELPER void best_pair(const float* a, const float* b, const float* doc, size_t doc_count, size_t dim,
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

VECINDEX_AVX2_KERNEL float chamfer(const float* query, size_t query_count, const float* doc, size_t doc_count,
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

VECINDEX_AVX2_KERNEL void decode_f16(const uint16_t* halves, size_t count, float* out) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(halves + i))));
  // F16C converts exactly, like the scalar path, so the tail may use either.
  for (; i < count; ++i) out[i] = _cvtsh_ss(halves[i]);
}

// Constant-initialised POD: no constructor runs at load time.
const ChamferKernelTable kAvx2Table = {Level::avx2, chamfer, decode_f16};

}  // namespace
}  // namespace vecindex::simd::avx2_chamfer_impl

namespace vecindex::simd {
const ChamferKernelTable* avx2_chamfer_kernels() { return &avx2_chamfer_impl::kAvx2Table; }
}  // namespace vecindex::simd
