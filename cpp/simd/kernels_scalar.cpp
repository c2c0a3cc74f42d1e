// Portable reference kernels; every other ISA is tested against these.
#include "simd/kernels.h"

namespace vecindex::simd {
namespace {

float l2sq_scalar(const float* a, const float* b, size_t dim) {
  // Four accumulators let the compiler overlap the adds without -ffast-math.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
    float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  for (; i < dim; ++i) { float d = a[i] - b[i]; s0 += d * d; }
  return (s0 + s1) + (s2 + s3);
}

float dot_scalar(const float* a, const float* b, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
  }
  for (; i < dim; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

void l2sq_x4_scalar(const float* q, const float* const* xs, size_t dim, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = l2sq_scalar(q, xs[j], dim);
}

void dot_x4_scalar(const float* q, const float* const* xs, size_t dim, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = dot_scalar(q, xs[j], dim);
}

const KernelTable kScalarTable = {Level::scalar, l2sq_scalar, dot_scalar, l2sq_x4_scalar, dot_x4_scalar};

}  // namespace

const KernelTable* scalar_kernels() { return &kScalarTable; }

}  // namespace vecindex::simd
