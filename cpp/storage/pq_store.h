// "pq": product quantisation. The vector is cut into pq_m sub-vectors of dim / pq_m
// dimensions; each sub-vector is replaced by the index (one byte) of its nearest of 256
// centroids learned by k-means on that sub-space. A vector costs pq_m bytes.
//
// A query builds one lookup table per query (pq_m x 256 partial distances from the query's
// sub-vectors to every centroid); the distance to a slot is then pq_m table lookups summed
// (asymmetric distance: the query itself is not quantised).
#pragma once

#include <vector>

#include "simd/codec_kernels.h"
#include "storage/code_arena.h"
#include "storage/vector_store.h"

namespace vecindex {

class PqStore final : public VectorStore {
 public:
  // pq_m == 0 picks dim / 8 (rounded to a divisor of dim). Throws InvalidArgument when pq_m
  // does not divide dim.
  PqStore(size_t dim, Metric metric, size_t pq_m, uint64_t seed);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return "pq"; }
  size_t bytes_per_vector() const override { return subspaces_; }

  bool needs_training() const override { return true; }
  bool is_trained() const override { return trained_; }
  size_t min_training_size() const override { return kCentroids; }
  // k-means on each sub-space, sub-spaces spread over `threads` std::threads. Uses at most
  // kMaxTrainingPoints vectors (a seeded random subset of larger samples).
  void train(const float* vectors, size_t count, size_t threads) override;

  void reserve(size_t capacity) override { codes_.reserve(capacity); }
  size_t capacity() const override { return codes_.capacity(); }
  void set(uint32_t slot, const float* vector) override;
  void decode(uint32_t slot, float* out) const override;
  std::unique_ptr<QueryDistance> query(const float* vector) const override;
  float distance_between(uint32_t a, uint32_t b) const override;
  void save(ByteWriter& out, size_t count) const override;
  void load(ByteReader& in, size_t count) override;
  size_t memory_bytes() const override { return codes_.memory_bytes() + centroids_.size() * sizeof(float); }
  void permute(const SlotPermutation& permutation) override { codes_.permute(permutation); }

  static constexpr size_t kCentroids = 256;
  static constexpr size_t kMaxTrainingPoints = 256 * 48;
  static constexpr size_t kIterations = 20;

  size_t subspaces() const { return subspaces_; }
  size_t subspace_dim() const { return subspace_dim_; }
  // Centroid `c` of sub-space `j`: subspace_dim floats.
  const float* centroid(size_t j, size_t c) const { return centroids_.data() + (j * kCentroids + c) * subspace_dim_; }
  const uint8_t* codes(uint32_t slot) const { return codes_.slot(slot); }
  simd::TableLookupKernel table_lookup() const { return table_lookup_; }

 private:
  void require_trained(const char* operation) const;
  void prepare_encoder();

  size_t dim_;
  Metric metric_;
  size_t subspaces_;
  size_t subspace_dim_;
  uint64_t seed_;
  bool trained_ = false;
  std::vector<float> centroids_;  // subspaces x 256 x subspace_dim
  // Derived from centroids_ for the nearest-centroid kernel: per sub-space, subspace_dim rows
  // of 256 values, and the 256 squared norms.
  std::vector<float> centroids_by_dim_;
  std::vector<float> centroid_norms_;
  simd::NearestCentroidKernel nearest_centroid_;
  CodeArena codes_;
  simd::TableLookupKernel table_lookup_;
};

}  // namespace vecindex
