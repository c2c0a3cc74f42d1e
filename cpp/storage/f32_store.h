// Full-precision storage: one 64-byte aligned row of floats per slot.
#pragma once

#include <vector>

#include "simd/kernels.h"
#include "storage/vector_store.h"
#include "util/aligned_buffer.h"

namespace vecindex {

class F32Store final : public VectorStore {
 public:
  F32Store(size_t dim, Metric metric);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return "f32"; }
  size_t bytes_per_vector() const override { return row_bytes_; }

  void reserve(size_t capacity) override;
  size_t capacity() const override { return capacity_; }
  void set(uint32_t slot, const float* vector) override;
  void decode(uint32_t slot, float* out) const override;
  std::unique_ptr<QueryDistance> query(const float* vector) const override;
  float distance_between(uint32_t a, uint32_t b) const override;

  void save(ByteWriter& out, size_t count) const override;
  void load(ByteReader& in, size_t count) override;
  void load_view(ByteReader& in, size_t count) override;
  size_t memory_bytes() const override { return buffer_.size(); }
  void permute(const SlotPermutation& permutation) override;

  const float* row(uint32_t slot) const { return reinterpret_cast<const float*>(base_ + size_t(slot) * row_bytes_); }

 private:
  float* mutable_row(uint32_t slot) { return reinterpret_cast<float*>(buffer_.data() + size_t(slot) * row_bytes_); }
  // Reads the section header and returns a pointer to `count` padded rows inside `in`.
  const uint8_t* read_rows(ByteReader& in, size_t count);

  size_t dim_;
  Metric metric_;
  size_t row_bytes_;  // dim floats rounded up to 64 bytes
  size_t capacity_ = 0;
  AlignedBuffer buffer_;
  const uint8_t* base_ = nullptr;  // buffer_.data(), or a read-only view into a mapped file
  const simd::KernelTable& kernels_;
};

// Converts a raw kernel value to the user's distance convention.
inline float finish_distance(Metric metric, float raw) {
  switch (metric) {
    case Metric::l2: return raw;
    case Metric::ip: return -raw;
    case Metric::cosine: return 1.0f - raw;
  }
  return raw;
}

}  // namespace vecindex
