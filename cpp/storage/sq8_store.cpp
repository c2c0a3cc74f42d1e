#include "storage/sq8_store.h"

#include <algorithm>
#include <cmath>

namespace vecindex {
namespace {

constexpr uint32_t kSq8CodecVersion = 1;

class Sq8QueryDistance final : public QueryDistance {
 public:
  Sq8QueryDistance(const Sq8Store& store, const float* query) : store_(store), weights_(store.dim()) {
    const auto& low = store.low();
    const auto& step = store.step();
    double offset = 0, norm_sq = 0;
    for (size_t i = 0; i < store.dim(); ++i) {
      weights_[i] = query[i] * step[i];
      offset += static_cast<double>(query[i]) * low[i];
      norm_sq += static_cast<double>(query[i]) * query[i];
    }
    offset_ = static_cast<float>(offset);
    query_norm_sq_ = static_cast<float>(norm_sq);
    kernel_ = store.weighted_bytes();
  }

  float distance(uint32_t slot) const override {
    float dot = offset_ + kernel_(weights_.data(), store_.codes(slot), weights_.size());
    if (store_.metric() == Metric::l2) return std::max(0.0f, query_norm_sq_ - 2 * dot + store_.stored_norm_sq(slot));
    return distance_from_dot(store_.metric(), dot);
  }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    for (size_t i = 0; i < count; ++i) {
      if (i + 2 < count) prefetch(slots[i + 2]);
      out[i] = distance(slots[i]);
    }
  }
  void prefetch(uint32_t slot) const override {
    const char* code = reinterpret_cast<const char*>(store_.codes(slot));
    for (size_t offset = 0; offset < store_.bytes_per_vector(); offset += 64) __builtin_prefetch(code + offset);
  }

 private:
  const Sq8Store& store_;
  std::vector<float> weights_;
  float offset_;
  float query_norm_sq_;
  simd::WeightedBytesKernel kernel_;
};

// Value at a fraction of the sorted sample, by partial selection (the sample is copied).
float percentile(std::vector<float>& values, double fraction) {
  size_t rank = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
  return values[rank];
}

}  // namespace

Sq8Store::Sq8Store(size_t dim, Metric metric)
    : dim_(dim), metric_(metric), codes_(dim + sizeof(float)),
      weighted_bytes_(simd::active_codec_kernels().weighted_bytes) {
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
}

void Sq8Store::require_trained(const char* operation) const {
  if (!trained_)
    throw StateError(std::string("sq8 store must be trained before ") + operation + "; call train() with at least " +
                     std::to_string(kMinTrainingSize) + " vectors");
}

void Sq8Store::train(const float* vectors, size_t count, size_t threads) {
  if (count < kMinTrainingSize)
    throw InvalidArgument("sq8 training needs at least " + std::to_string(kMinTrainingSize) + " vectors, got " +
                          std::to_string(count));
  std::vector<float> low(dim_), step(dim_), column(count);
  for (size_t d = 0; d < dim_; ++d) {
    for (size_t i = 0; i < count; ++i) column[i] = vectors[i * dim_ + d];
    float lo = percentile(column, 0.001), hi = percentile(column, 0.999);
    if (!std::isfinite(lo) || !std::isfinite(hi)) throw InvalidArgument("sq8 training vectors contain NaN or infinity");
    low[d] = lo;
    // A constant dimension still needs a positive step so encoding never divides by zero.
    step[d] = hi > lo ? (hi - lo) / 255.0f : std::max(std::fabs(lo), 1.0f) * 1e-6f;
  }
  low_ = std::move(low);
  step_ = std::move(step);
  trained_ = true;
}

void Sq8Store::set(uint32_t slot, const float* vector) {
  require_trained("adding vectors");
  codes_.check_slot(slot);
  uint8_t* code = codes_.slot(slot);
  double norm_sq = 0;
  for (size_t d = 0; d < dim_; ++d) {
    float level = std::nearbyint((vector[d] - low_[d]) / step_[d]);
    level = std::min(255.0f, std::max(0.0f, level));  // also maps NaN-free out-of-range values to the ends
    code[d] = static_cast<uint8_t>(level);
    float decoded = low_[d] + step_[d] * code[d];
    norm_sq += static_cast<double>(decoded) * decoded;
  }
  float norm = static_cast<float>(norm_sq);
  std::memcpy(code + dim_, &norm, sizeof norm);
}

float Sq8Store::stored_norm_sq(uint32_t slot) const {
  float norm;
  std::memcpy(&norm, codes_.slot(slot) + dim_, sizeof norm);
  return norm;
}

void Sq8Store::decode(uint32_t slot, float* out) const {
  require_trained("decoding");
  codes_.check_slot(slot);
  const uint8_t* code = codes_.slot(slot);
  for (size_t d = 0; d < dim_; ++d) out[d] = low_[d] + step_[d] * code[d];
}

std::unique_ptr<QueryDistance> Sq8Store::query(const float* vector) const {
  require_trained("searching");
  return std::make_unique<Sq8QueryDistance>(*this, vector);
}

float Sq8Store::distance_between(uint32_t a, uint32_t b) const {
  thread_local std::vector<float> decoded;
  decoded.resize(dim_);
  decode(a, decoded.data());
  codes_.check_slot(b);
  return Sq8QueryDistance(*this, decoded.data()).distance(b);
}

void Sq8Store::save(ByteWriter& out, size_t count) const {
  require_trained("saving");
  write_codec_header(out, "sq8", kSq8CodecVersion, dim_, metric_);
  out.put_array(low_.data(), dim_);
  out.put_array(step_.data(), dim_);
  codes_.save(out, count);
}

void Sq8Store::load(ByteReader& in, size_t count) {
  read_codec_header(in, "sq8", kSq8CodecVersion, dim_, metric_);
  std::vector<float> low = in.get_vector<float>(dim_);
  std::vector<float> step = in.get_vector<float>(dim_);
  require_finite(low.data(), dim_, in.what() + ": sq8 range");
  require_finite(step.data(), dim_, in.what() + ": sq8 steps");
  for (float s : step)
    if (!(s > 0)) throw FormatError(in.what() + ": sq8 step sizes must be positive");
  CodeArena codes(codes_.stride());
  codes.load(in, count);
  for (uint32_t slot = 0; slot < count; ++slot) {
    float norm;
    std::memcpy(&norm, codes.slot(slot) + dim_, sizeof norm);
    if (!std::isfinite(norm) || norm < 0) throw FormatError(in.what() + ": sq8 norm of slot " + std::to_string(slot) + " is invalid");
  }
  low_ = std::move(low);
  step_ = std::move(step);
  codes_ = std::move(codes);
  trained_ = true;
}

}  // namespace vecindex
