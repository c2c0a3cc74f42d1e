// "rabitq": RaBitQ-style 1-bit codes (Gao & Long, SIGMOD 2024), dim bits + 16 bytes per vector.
//
// Training takes the sample mean as centroid c and draws a seeded random rotation P. A vector
// x is stored as its residual's sign bits b = sign(P (x - c)) plus per-vector factors:
//   ||x - c||^2, ||x - c|| / <xbar, o>, the error scale, and <x - c, c>,
// where o = P (x - c) / ||x - c|| and xbar = (2b - 1) / sqrt(dim) is the code as a unit vector.
// The estimator <x - c, q - c> ~ ||x - c|| <xbar, P (q - c)> / <xbar, o> is unbiased; it needs
// the query rotated once and quantised to 4 bits per dimension, after which one distance is
// a handful of AND + popcount over the bit planes.
//
// Error bound (l2): |estimate - exact| <= 2 * (eps0 * ||q - c|| * err(x) + query rounding term).
// The estimator's error is close to Gaussian with standard deviation ||q - c|| * err(x), so
// eps0 counts standard deviations: we use 3 (about 99.7% coverage) rather than the paper's 1.9
// (about 94%), because a bound that fails drops a true neighbour from reranking.
#pragma once

#include <vector>

#include "simd/codec_kernels.h"
#include "storage/bounded_distance.h"
#include "storage/code_arena.h"
#include "storage/vector_store.h"

namespace vecindex {

// Per-vector factors stored after the bits.
struct RabitqFactors {
  float residual_norm_sq;  // ||x - c||^2
  float rescale;           // ||x - c|| / <xbar, o>
  float error_scale;       // ||x - c|| * sqrt(1 - <xbar,o>^2) / <xbar,o> / sqrt(dim - 1)
  float center_dot;        // <x - c, c>, for inner-product metrics
};

class RabitqStore final : public VectorStore {
 public:
  RabitqStore(size_t dim, Metric metric, uint64_t seed);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return "rabitq"; }
  size_t bytes_per_vector() const override { return codes_.stride(); }

  bool needs_training() const override { return true; }
  bool is_trained() const override { return trained_; }
  size_t min_training_size() const override { return kMinTrainingSize; }
  void train(const float* vectors, size_t count, size_t threads) override;

  void reserve(size_t capacity) override { codes_.reserve(capacity); }
  size_t capacity() const override { return codes_.capacity(); }
  void set(uint32_t slot, const float* vector) override;
  void decode(uint32_t slot, float* out) const override;
  // The returned object is a BoundedQueryDistance.
  std::unique_ptr<QueryDistance> query(const float* vector) const override;
  float distance_between(uint32_t a, uint32_t b) const override;
  void save(ByteWriter& out, size_t count) const override;
  void load(ByteReader& in, size_t count) override;
  size_t memory_bytes() const override;
  void permute(const SlotPermutation& permutation) override { codes_.permute(permutation); }  // factors sit in the code row

  static constexpr size_t kMinTrainingSize = 16;
  static constexpr size_t kQueryBits = 4;
  static constexpr float kErrorConfidence = 3.0f;

  size_t word_count() const { return words_; }
  const uint64_t* bits(uint32_t slot) const { return reinterpret_cast<const uint64_t*>(codes_.slot(slot)); }
  RabitqFactors factors(uint32_t slot) const;
  const std::vector<float>& centroid() const { return centroid_; }
  // out = P (vector - centroid)
  void rotate_residual(const float* vector, float* out) const;
  // The same for n vectors (row-major in and out), each row of P read once for all of them:
  // a query batch pays the dim x dim matrix's memory traffic once, not once per query.
  void rotate_residuals(const float* vectors, size_t n, float* out) const;
  const simd::CodecKernelTable& kernels() const { return kernels_; }

 private:
  void require_trained(const char* operation) const;

  size_t dim_;
  Metric metric_;
  uint64_t seed_;
  size_t words_;
  bool trained_ = false;
  std::vector<float> centroid_;
  std::vector<float> rotation_;  // dim x dim, orthonormal rows
  CodeArena codes_;              // words_ x uint64 sign bits, then RabitqFactors
  const simd::CodecKernelTable& kernels_;
};

}  // namespace vecindex
