// Shared plumbing for the compressed stores: a growable block of fixed-size codes, the
// blob header every codec writes, and the metric conventions.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <vector>

#include "simd/kernels.h"
#include "storage/vector_store.h"
#include "util/bytes.h"
#include "util/errors.h"
#include "util/large_alloc.h"

namespace vecindex {

// Fixed-stride codes in one 64-byte aligned block (on huge pages when large: util/large_alloc.h),
// so a code never straddles more cache lines than it must. Growing copies the existing codes;
// readers must not run meanwhile.
class CodeArena {
 public:
  explicit CodeArena(size_t stride) : stride_(stride) {}

  void reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    if (stride_ != 0 && capacity > SIZE_MAX / stride_ - 64) throw InvalidArgument("capacity too large");
    size_t bytes = 0;
    Block grown(static_cast<uint8_t*>(allocate_large(capacity * stride_ == 0 ? 1 : capacity * stride_, &bytes)));
    std::memset(grown.get(), 0, bytes);
    if (block_) std::memcpy(grown.get(), block_.get(), capacity_ * stride_);
    block_ = std::move(grown);
    capacity_ = capacity;
  }
  size_t capacity() const { return capacity_; }
  size_t stride() const { return stride_; }
  uint8_t* slot(uint32_t index) { return block_.get() + static_cast<size_t>(index) * stride_; }
  const uint8_t* slot(uint32_t index) const { return block_.get() + static_cast<size_t>(index) * stride_; }
  size_t memory_bytes() const { return capacity_ * stride_; }

  // The first permutation.size() codes move to their new slots (the index never permutes
  // more slots than it has reserved).
  void permute(const SlotPermutation& permutation) noexcept {
    if (permutation.size() <= capacity_ && stride_ != 0) permutation.apply_rows(block_.get(), stride_);
  }

  void check_slot(uint32_t index) const {
    if (index >= capacity_)
      throw InvalidArgument("slot " + std::to_string(index) + " is beyond capacity " + std::to_string(capacity_));
  }

  void save(ByteWriter& out, size_t count) const {
    if (count > capacity_) throw InvalidArgument("cannot save more slots than the store holds");
    if (count) out.append(block_.get(), count * stride_);
  }
  void load(ByteReader& in, size_t count) {
    if (stride_ != 0 && count > in.remaining() / stride_)
      throw FormatError(in.what() + " declares " + std::to_string(count) + " codes but is too short");
    reserve(count);
    if (count) std::memcpy(block_.get(), in.take(count * stride_), count * stride_);
  }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  using Block = std::unique_ptr<uint8_t, Free>;
  size_t stride_;
  size_t capacity_ = 0;
  Block block_;
};

// Every codec blob starts with its dtype name, a codec version, dim and metric, so a blob
// loaded into the wrong store fails with a message instead of garbage distances.
inline void write_codec_header(ByteWriter& out, const std::string& dtype, uint32_t version, size_t dim,
                               Metric metric) {
  out.put_string(dtype);
  out.put<uint32_t>(version);
  out.put<uint64_t>(dim);
  out.put<int32_t>(static_cast<int32_t>(metric));
}

inline void read_codec_header(ByteReader& in, const std::string& dtype, uint32_t version, size_t dim,
                              Metric metric) {
  std::string found = in.get_string(64);
  if (found != dtype) throw FormatError(in.what() + ": expected a '" + dtype + "' codec blob, found '" + found + "'");
  uint32_t found_version = in.get<uint32_t>();
  if (found_version != version)
    throw FormatError(in.what() + ": " + dtype + " codec version " + std::to_string(found_version) +
                      " is not supported (expected " + std::to_string(version) + ")");
  uint64_t found_dim = in.get<uint64_t>();
  if (found_dim != dim)
    throw FormatError(in.what() + ": " + dtype + " blob has dim " + std::to_string(found_dim) + ", store has " +
                      std::to_string(dim));
  int32_t found_metric = in.get<int32_t>();
  if (found_metric != static_cast<int32_t>(metric))
    throw FormatError(in.what() + ": " + dtype + " blob metric does not match the store");
}

// The query of a codec that was never trained. Such a store holds no vectors (training comes
// before the first add), so a search over it meets no slot and finds nothing, like any empty
// index; a distance request would mean a slot that cannot exist.
class UntrainedQueryDistance final : public QueryDistance {
 public:
  explicit UntrainedQueryDistance(std::string dtype) : dtype_(std::move(dtype)) {}
  float distance(uint32_t slot) const override {
    throw StateError(dtype_ + " store is untrained and holds no vector at slot " + std::to_string(slot));
  }

 private:
  std::string dtype_;
};

inline void require_finite(const float* values, size_t count, const std::string& what) {
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i])) throw FormatError(what + " contains a non-finite value");
}

// Converts an inner product to the user's distance convention (ip -> -dot, cosine -> 1 - dot).
inline float distance_from_dot(Metric metric, float dot) {
  return metric == Metric::cosine ? 1.0f - dot : -dot;
}

// Distance between two stored slots with both codes decoded to f32 and the f32 kernels;
// codecs without a cheaper code-to-code distance use it while building the graph.
inline float decoded_distance(const VectorStore& store, uint32_t a, uint32_t b) {
  thread_local std::vector<float> first, second;
  const size_t dim = store.dim();
  first.resize(dim);
  second.resize(dim);
  store.decode(a, first.data());
  store.decode(b, second.data());
  const simd::KernelTable& kernels = simd::active_kernels();
  if (store.metric() == Metric::l2) return kernels.l2sq(first.data(), second.data(), dim);
  return distance_from_dot(store.metric(), kernels.dot(first.data(), second.data(), dim));
}

}  // namespace vecindex
