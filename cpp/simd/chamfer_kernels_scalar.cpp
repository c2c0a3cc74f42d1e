// Portable reference Chamfer kernel; every other ISA is tested against it and numpy.
#include "simd/chamfer_kernel_table.h"
#include "simd/half_convert.h"

namespace vecindex::simd {
namespace {

// Four accumulators let the compiler overlap the adds without -ffast-math.
float row_dot(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float chamfer_scalar(const float* query, size_t query_count, const float* doc, size_t doc_count, size_t dim) {
  float total = 0;
  for (size_t q = 0; q < query_count; ++q) {
    const float* row = query + q * dim;
    float best = row_dot(row, doc, dim);
    for (size_t d = 1; d < doc_count; ++d) {
      float value = row_dot(row, doc + d * dim, dim);
      if (value > best) best = value;
    }
    total += best;
  }
  return total;
}

void decode_f16_scalar(const uint16_t* halves, size_t count, float* out) {
  for (size_t i = 0; i < count; ++i) out[i] = half_to_float(halves[i]);
}

const ChamferKernelTable kScalarTable = {Level::scalar, chamfer_scalar, decode_f16_scalar};

}  // namespace

const ChamferKernelTable* scalar_chamfer_kernels() { return &kScalarTable; }

}  // namespace vecindex::simd
