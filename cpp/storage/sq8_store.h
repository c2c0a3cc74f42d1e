// "sq8": per-dimension affine scalar quantisation to one byte per dimension.
//
// Training learns, per dimension, the 0.1th and 99.9th percentiles of the sample as the code
// range [low, low + 255 * step]; values outside are clamped (rare outliers should not spend the
// 256 levels). Each slot has its codes and ||decoded||^2, so for a query q
//   q.x = q.low + sum_i (q_i * step_i) * code_i
// is one weights x u8-codes dot product (weights rounded to int16 per query), and
// l2 = ||q||^2 - 2 q.x + ||x||^2.
//
// In memory the norms sit in their own array: with dim a multiple of 64 every code row is
// then cache-line aligned (384 bytes = 6 lines instead of 7 for a 388-byte record), and only
// l2 reads a norm at all. Files keep the interleaved record (codes, then the norm).
#pragma once

#include <cstring>
#include <vector>

#include "simd/codec_kernels.h"
#include "storage/code_arena.h"
#include "storage/vector_store.h"

namespace vecindex {

class Sq8Store final : public VectorStore {
 public:
  Sq8Store(size_t dim, Metric metric);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return "sq8"; }
  size_t bytes_per_vector() const override { return dim_ + sizeof(float); }

  bool needs_training() const override { return true; }
  bool is_trained() const override { return trained_; }
  size_t min_training_size() const override { return kMinTrainingSize; }
  void train(const float* vectors, size_t count, size_t threads) override;

  void reserve(size_t capacity) override {
    codes_.reserve(capacity);
    norms_.reserve(capacity);
  }
  size_t capacity() const override { return codes_.capacity(); }
  void set(uint32_t slot, const float* vector) override;
  void decode(uint32_t slot, float* out) const override;
  std::unique_ptr<QueryDistance> query(const float* vector) const override;
  float distance_between(uint32_t a, uint32_t b) const override;
  void save(ByteWriter& out, size_t count) const override;
  void load(ByteReader& in, size_t count) override;
  size_t memory_bytes() const override {
    return codes_.memory_bytes() + norms_.memory_bytes() + (low_.size() + step_.size()) * sizeof(float);
  }

  static constexpr size_t kMinTrainingSize = 32;

  const uint8_t* codes(uint32_t slot) const { return codes_.slot(slot); }
  float stored_norm_sq(uint32_t slot) const {
    float norm;
    std::memcpy(&norm, norms_.slot(slot), sizeof norm);
    return norm;
  }
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& step() const { return step_; }
  simd::Int16WeightedBytesKernel weighted_bytes_i16() const { return weighted_bytes_i16_; }
  simd::Int16WeightedBytesX4Kernel weighted_bytes_i16_x4() const { return weighted_bytes_i16_x4_; }

 private:
  void require_trained(const char* operation) const;

  size_t dim_;
  Metric metric_;
  bool trained_ = false;
  std::vector<float> low_;
  std::vector<float> step_;
  CodeArena codes_;  // dim code bytes per slot
  CodeArena norms_;  // the f32 ||decoded||^2 per slot
  simd::Int16WeightedBytesKernel weighted_bytes_i16_;
  simd::Int16WeightedBytesX4Kernel weighted_bytes_i16_x4_;
};

}  // namespace vecindex
