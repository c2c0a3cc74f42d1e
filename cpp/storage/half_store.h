// 16-bit float storage: "f16" (IEEE half) and "bf16" (bfloat16), 2 bytes per dimension.
// Queries stay f32; kernels widen the stored halves on the fly (F16C / AVX-512 where present).
// f16 keeps 11 significant bits over a narrow range (fine for normalised embeddings);
// bf16 keeps f32's range with 8 significant bits.
#pragma once

#include "simd/codec_kernels.h"
#include "storage/code_arena.h"
#include "storage/vector_store.h"

namespace vecindex {

enum class HalfKind { f16, bf16 };

class HalfStore final : public VectorStore {
 public:
  HalfStore(HalfKind kind, size_t dim, Metric metric);

  size_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  std::string dtype() const override { return kind_ == HalfKind::f16 ? "f16" : "bf16"; }
  size_t bytes_per_vector() const override { return dim_ * 2; }
  bool walks_like_full_vectors() const override { return true; }

  void reserve(size_t capacity) override { codes_.reserve(capacity); }
  size_t capacity() const override { return codes_.capacity(); }
  void check(const float* vector) const override;  // f16: |x| < 65520; bf16: below bf16's largest value
  void set(uint32_t slot, const float* vector) override;
  void decode(uint32_t slot, float* out) const override;
  std::unique_ptr<QueryDistance> query(const float* vector) const override;
  float distance_between(uint32_t a, uint32_t b) const override;
  void save(ByteWriter& out, size_t count) const override;
  void load(ByteReader& in, size_t count) override;
  size_t memory_bytes() const override { return codes_.memory_bytes(); }
  void permute(const SlotPermutation& permutation) override { codes_.permute(permutation); }

  const uint16_t* codes(uint32_t slot) const { return reinterpret_cast<const uint16_t*>(codes_.slot(slot)); }
  // Distance from an f32 query to a slot with the chosen kernels (used by the query objects).
  float distance_to(const float* query, uint32_t slot) const;

 private:
  HalfKind kind_;
  size_t dim_;
  Metric metric_;
  CodeArena codes_;
  simd::HalfPairKernel dot_;
  simd::HalfPairKernel l2sq_;
};

}  // namespace vecindex
