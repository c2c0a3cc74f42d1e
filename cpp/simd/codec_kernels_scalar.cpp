// Portable reference codec kernels; every other ISA is tested against these (and numpy).
#include "simd/codec_kernel_table.h"
#include "simd/half_convert.h"

namespace vecindex::simd {
namespace {

// Four accumulators let the compiler overlap the adds without -ffast-math.
template <float (*Convert)(uint16_t)>
float half_dot(const float* q, const uint16_t* x, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += q[i] * Convert(x[i]);
    s1 += q[i + 1] * Convert(x[i + 1]);
    s2 += q[i + 2] * Convert(x[i + 2]);
    s3 += q[i + 3] * Convert(x[i + 3]);
  }
  for (; i < dim; ++i) s0 += q[i] * Convert(x[i]);
  return (s0 + s1) + (s2 + s3);
}

template <float (*Convert)(uint16_t)>
float half_l2sq(const float* q, const uint16_t* x, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    float d0 = q[i] - Convert(x[i]), d1 = q[i + 1] - Convert(x[i + 1]);
    float d2 = q[i + 2] - Convert(x[i + 2]), d3 = q[i + 3] - Convert(x[i + 3]);
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
  }
  for (; i < dim; ++i) { float d = q[i] - Convert(x[i]); s0 += d * d; }
  return (s0 + s1) + (s2 + s3);
}

float f16_convert(uint16_t v) { return half_to_float(v); }
float bf16_convert(uint16_t v) { return bf16_to_float(v); }

float weighted_bytes_scalar(const float* w, const uint8_t* codes, size_t dim) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    s0 += w[i] * codes[i]; s1 += w[i + 1] * codes[i + 1];
    s2 += w[i + 2] * codes[i + 2]; s3 += w[i + 3] * codes[i + 3];
  }
  for (; i < dim; ++i) s0 += w[i] * codes[i];
  return (s0 + s1) + (s2 + s3);
}

int32_t weighted_bytes_i16_scalar(const int16_t* w, const uint8_t* codes, size_t dim) {
  int32_t sum = 0;
  for (size_t i = 0; i < dim; ++i) sum += static_cast<int32_t>(w[i]) * codes[i];
  return sum;
}

void weighted_bytes_i16_x4_scalar(const int16_t* w, const uint8_t* const* codes, size_t dim, int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = weighted_bytes_i16_scalar(w, codes[r], dim);
}

int32_t weighted_nibbles_i16_scalar(const int16_t* w, const uint8_t* codes, size_t blocks) {
  int32_t sum = 0;
  for (size_t b = 0; b < blocks; ++b)
    for (size_t t = 0; t < 16; ++t) {
      uint8_t byte = codes[b * 16 + t];
      sum += static_cast<int32_t>(w[b * 32 + t]) * (byte & 0x0F) + static_cast<int32_t>(w[b * 32 + 16 + t]) * (byte >> 4);
    }
  return sum;
}

void weighted_nibbles_i16_x4_scalar(const int16_t* w, const uint8_t* const* codes, size_t blocks, int32_t* out) {
  for (int r = 0; r < 4; ++r) out[r] = weighted_nibbles_i16_scalar(w, codes[r], blocks);
}

float table_lookup_scalar(const float* table, const uint8_t* codes, size_t m) {
  float s0 = 0, s1 = 0;
  size_t j = 0;
  for (; j + 2 <= m; j += 2) {
    s0 += table[j * 256 + codes[j]];
    s1 += table[(j + 1) * 256 + codes[j + 1]];
  }
  for (; j < m; ++j) s0 += table[j * 256 + codes[j]];
  return s0 + s1;
}

// Bit-twiddling popcount so the baseline build needs no POPCNT instruction.
inline uint64_t popcount_word(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (x * 0x0101010101010101ull) >> 56;
}

uint64_t popcount_scalar(const uint64_t* a, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += popcount_word(a[i]);
  return total;
}

uint64_t and_popcount_scalar(const uint64_t* a, const uint64_t* b, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += popcount_word(a[i] & b[i]);
  return total;
}

uint64_t xor_popcount_scalar(const uint64_t* a, const uint64_t* b, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += popcount_word(a[i] ^ b[i]);
  return total;
}

uint64_t bitplane_dot_scalar(const uint64_t* code, const uint64_t* planes, size_t n, size_t plane_count) {
  uint64_t total = 0;
  for (size_t p = 0; p < plane_count; ++p)
    total += and_popcount_scalar(code, planes + p * n, n) << p;
  return total;
}

uint32_t nearest_centroid_scalar(const float* x, const float* by_dim, const float* norms, size_t dim,
                                 size_t count) {
  uint32_t best = 0;
  float best_score = 0;
  // Centroids in blocks of 64 keep the partial scores in registers/L1 across dimensions.
  float score[64];
  for (size_t start = 0; start < count; start += 64) {
    size_t block = count - start < 64 ? count - start : 64;
    for (size_t c = 0; c < block; ++c) score[c] = norms[start + c];
    for (size_t d = 0; d < dim; ++d) {
      const float twice = -2.0f * x[d];
      const float* row = by_dim + d * count + start;
      for (size_t c = 0; c < block; ++c) score[c] += twice * row[c];
    }
    for (size_t c = 0; c < block; ++c)
      if ((start == 0 && c == 0) || score[c] < best_score) {
        best_score = score[c];
        best = static_cast<uint32_t>(start + c);
      }
  }
  return best;
}

// The reference FastScan: sums wrap in uint16 like the SIMD kernels' 16-bit lanes, so every
// level agrees even on inputs that break the callers' bound.
void fastscan32_scalar(const uint8_t* packed, const uint8_t* tables, size_t groups, uint16_t* out) {
  uint16_t sums[32] = {};
  for (size_t g = 0; g < groups; ++g) {
    const uint8_t* block = packed + 16 * g;
    const uint8_t* table = tables + 16 * g;
    for (size_t t = 0; t < 16; ++t) {
      sums[t] = static_cast<uint16_t>(sums[t] + table[block[t] & 0x0F]);
      sums[t + 16] = static_cast<uint16_t>(sums[t + 16] + table[block[t] >> 4]);
    }
  }
  for (size_t j = 0; j < 32; ++j) out[j] = sums[j];
}

// Four chains, as half_dot. Each value is decoded as low + step * code before use.
float sq8_pair_dot_scalar(const float* low, const float* step, const uint8_t* a, const uint8_t* b, size_t dim) {
  float s[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < dim; ++i) s[i % 4] += (low[i] + step[i] * a[i]) * (low[i] + step[i] * b[i]);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// The two reconstructions differ by step * (a - b); the codes' difference is exact in float.
float sq8_pair_l2sq_scalar(const float*, const float* step, const uint8_t* a, const uint8_t* b, size_t dim) {
  float s[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < dim; ++i) {
    float d = step[i] * (static_cast<float>(a[i]) - static_cast<float>(b[i]));
    s[i % 4] += d * d;
  }
  return (s[0] + s[1]) + (s[2] + s[3]);
}

const CodecKernelTable kScalarCodecTable = {
    Level::scalar,
    half_dot<f16_convert>,
    half_l2sq<f16_convert>,
    half_dot<bf16_convert>,
    half_l2sq<bf16_convert>,
    weighted_bytes_scalar,
    weighted_bytes_i16_scalar,
    weighted_bytes_i16_x4_scalar,
    weighted_nibbles_i16_scalar,
    weighted_nibbles_i16_x4_scalar,
    table_lookup_scalar,
    popcount_scalar,
    and_popcount_scalar,
    xor_popcount_scalar,
    bitplane_dot_scalar,
    nearest_centroid_scalar,
    fastscan32_scalar,
    sq8_pair_dot_scalar,
    sq8_pair_l2sq_scalar,
};

}  // namespace

const CodecKernelTable* scalar_codec_kernels() { return &kScalarCodecTable; }

}  // namespace vecindex::simd
