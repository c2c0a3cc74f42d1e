#include "storage/f32_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "storage/prefetched_scoring.h"
#include "util/errors.h"
#include "util/prefetch.h"

namespace vecindex {
namespace {

class F32QueryDistance final : public QueryDistance {
 public:
  F32QueryDistance(const F32Store& store, const float* vector, const simd::KernelTable& kernels)
      : store_(store), dim_(store.dim()), metric_(store.metric()) {
    query_.resize(dim_ * sizeof(float));
    std::memcpy(query_.data(), vector, dim_ * sizeof(float));
    pair_ = metric_ == Metric::l2 ? kernels.l2sq : kernels.dot;
    quad_ = metric_ == Metric::l2 ? kernels.l2sq_x4 : kernels.dot_x4;
  }

  float distance(uint32_t slot) const override {
    return finish_distance(metric_, pair_(q(), store_.row(slot), dim_));
  }

  void distances(const uint32_t* slots, size_t count, float* out) const override {
    // One group ahead, so the next four rows stream in while these are computed.
    score_prefetched_x4<4>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                           [this](const uint32_t* four, float* four_out) {
                             const float* rows[4] = {store_.row(four[0]), store_.row(four[1]), store_.row(four[2]),
                                                     store_.row(four[3])};
                             quad_(q(), rows, dim_, four_out);
                             for (int j = 0; j < 4; ++j) four_out[j] = finish_distance(metric_, four_out[j]);
                           },
                           [this](uint32_t s) { return distance(s); });
  }

  void prefetch(uint32_t slot) const override {
    const char* row = reinterpret_cast<const char*>(store_.row(slot));
    // Two lines up front; the hardware prefetcher follows the rest of a sequential row.
    prefetch_line(row);
    prefetch_line(row + 64);
  }

 private:
  const float* q() const { return reinterpret_cast<const float*>(query_.data()); }
  const F32Store& store_;
  size_t dim_;
  Metric metric_;
  AlignedBuffer query_;
  simd::PairKernel pair_;
  simd::QuadKernel quad_;
};

}  // namespace

F32Store::F32Store(size_t dim, Metric metric)
    : dim_(dim), metric_(metric), row_bytes_((dim * sizeof(float) + 63) / 64 * 64),
      kernels_(simd::active_kernels()) {}

void F32Store::permute(const SlotPermutation& permutation) {
  if (base_ != buffer_.data()) throw StateError("vectors are a read-only view of a mapped file");
  if (permutation.size() <= capacity_) permutation.apply_rows(buffer_.data(), row_bytes_);
}

void F32Store::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  if (base_ != buffer_.data()) throw StateError("vectors are a read-only view of a mapped file");
  buffer_.resize(capacity * row_bytes_);
  base_ = buffer_.data();
  capacity_ = capacity;
}

void F32Store::set(uint32_t slot, const float* vector) {
  std::memcpy(mutable_row(slot), vector, dim_ * sizeof(float));
}

void F32Store::decode(uint32_t slot, float* out) const { std::memcpy(out, row(slot), dim_ * sizeof(float)); }

std::unique_ptr<QueryDistance> F32Store::query(const float* vector) const {
  return std::make_unique<F32QueryDistance>(*this, vector, kernels_);
}

float F32Store::distance_between(uint32_t a, uint32_t b) const {
  float raw = metric_ == Metric::l2 ? kernels_.l2sq(row(a), row(b), dim_) : kernels_.dot(row(a), row(b), dim_);
  return finish_distance(metric_, raw);
}

void F32Store::save(ByteWriter& out, size_t count) const {
  // Rows are written with their in-memory padding, after a header padded to 64 bytes, so a
  // mapped file can be searched in place.
  out.put<uint64_t>(dim_);
  out.put<uint64_t>(count);
  out.put<uint64_t>(row_bytes_);
  static const uint8_t zeros[64] = {};
  out.append(zeros, 64 - 3 * sizeof(uint64_t));
  out.append(base_, count * row_bytes_);
}

const uint8_t* F32Store::read_rows(ByteReader& in, size_t count) {
  uint64_t dim = in.get<uint64_t>();
  uint64_t stored = in.get<uint64_t>();
  uint64_t row_bytes = in.get<uint64_t>();
  if (dim != dim_) throw FormatError("f32 vectors have dim " + std::to_string(dim) + ", header says " + std::to_string(dim_));
  if (stored != count) throw FormatError("f32 vectors section holds " + std::to_string(stored) + " rows, header says " + std::to_string(count));
  if (row_bytes != row_bytes_) throw FormatError("f32 vectors section has an unexpected row size");
  in.take(64 - 3 * sizeof(uint64_t));
  if (count != 0 && in.remaining() / count < row_bytes_) throw FormatError("f32 vectors section is truncated");
  const uint8_t* rows = in.take(count * row_bytes_);
  // add() refuses NaN, infinity and overflowing norms; a file must not smuggle them in (NaN or
  // infinite distances break search). Cosine rows are unit vectors, so the bound holds for them.
  for (size_t slot = 0; slot < count; ++slot) {
    float row[64];
    double squared_norm = 0;
    for (size_t begin = 0; begin < dim_; begin += 64) {
      size_t n = std::min<size_t>(64, dim_ - begin);
      std::memcpy(row, rows + slot * row_bytes_ + begin * sizeof(float), n * sizeof(float));  // may be unaligned
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(row[i])) throw FormatError("f32 vectors section holds NaN or infinity");
        squared_norm += double(row[i]) * row[i];
      }
    }
    if (squared_norm > kMaxSquaredNorm) throw FormatError("f32 vectors section holds a vector too large to search");
  }
  return rows;
}

void F32Store::load(ByteReader& in, size_t count) {
  const uint8_t* rows = read_rows(in, count);
  reserve(std::max<size_t>(count, 1));
  if (count) std::memcpy(buffer_.data(), rows, count * row_bytes_);
}

void F32Store::load_view(ByteReader& in, size_t count) {
  const uint8_t* rows = read_rows(in, count);
  if (reinterpret_cast<uintptr_t>(rows) % 64 != 0) {  // not a mapped file: fall back to a copy
    reserve(std::max<size_t>(count, 1));
    if (count) std::memcpy(buffer_.data(), rows, count * row_bytes_);
  } else {
    base_ = rows;
    capacity_ = count;
  }
}
}  // namespace vecindex
