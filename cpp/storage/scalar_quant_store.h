// "sq8" and "sq4": per-dimension affine scalar quantisation to 8 or 4 bits per dimension.
//
// Training learns, per dimension, a code range [low, low + levels * step] from the sample
// (see kRangeTail in the .cpp); values outside are clamped. Each slot has its codes and
// ||decoded||^2, so for a query q
//   q.x = q.low + sum_i (q_i * step_i) * code_i
// is one weights x codes dot product (weights rounded to int16 per query), and
// l2 = ||q||^2 - 2 q.x + ||x||^2.
//
// sq8 codes are one byte per dimension. sq4 codes pack dimensions in blocks of 32 into 16
// bytes (the layout of Int16WeightedNibblesKernel), half the bytes a graph walk reads per
// vector, for a coarser estimate that reranking on full vectors corrects.
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

class ScalarQuantStore final : public VectorStore {
 public:
  // bits: 8 ("sq8") or 4 ("sq4").
  ScalarQuantStore(size_t dim, Metric metric, unsigned bits);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return bits_ == 8 ? "sq8" : "sq4"; }
  size_t bytes_per_vector() const override { return row_bytes_ + sizeof(float); }

  bool needs_training() const override { return true; }
  bool is_trained() const override { return trained_; }
  size_t min_training_size() const override { return kMinTrainingSize; }
  void train(const float* vectors, size_t count, size_t threads) override;

  void reserve(size_t capacity) override {
    codes_.reserve(capacity);
    norms_.reserve(capacity);
  }
  size_t capacity() const override { return codes_.capacity(); }
  void permute(const SlotPermutation& permutation) override {
    codes_.permute(permutation);
    norms_.permute(permutation);
  }
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
  bool walks_like_full_vectors() const override { return bits_ == 8; }

  unsigned bits() const { return bits_; }
  unsigned levels() const { return (1u << bits_) - 1; }
  size_t row_bytes() const { return row_bytes_; }
  // Weights a query needs: dim for sq8; sq4 pads to whole 32-dimension blocks (zero weights).
  size_t weight_count() const { return bits_ == 8 ? dim_ : row_bytes_ * 2; }
  const uint8_t* codes(uint32_t slot) const { return codes_.slot(slot); }
  float stored_norm_sq(uint32_t slot) const {
    float norm;
    std::memcpy(&norm, norms_.slot(slot), sizeof norm);
    return norm;
  }
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& step() const { return step_; }
  const simd::CodecKernelTable& kernels() const { return kernels_; }

 private:
  void require_trained(const char* operation) const;
  bool range_decodes_finite(const std::vector<float>& low, const std::vector<float>& step) const;
  unsigned code_at(const uint8_t* row, size_t d) const;
  void decode_row(const uint8_t* row, float* out) const;  // no checks: callers check slot and training
  void put_code(uint8_t* row, size_t d, unsigned level) const;

  size_t dim_;
  Metric metric_;
  unsigned bits_;
  size_t row_bytes_;
  bool trained_ = false;
  std::vector<float> low_;
  std::vector<float> step_;
  CodeArena codes_;  // row_bytes code bytes per slot
  CodeArena norms_;  // the f32 ||decoded||^2 per slot
  const simd::CodecKernelTable& kernels_;
};

}  // namespace vecindex
