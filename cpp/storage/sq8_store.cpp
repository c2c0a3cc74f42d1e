#include "storage/sq8_store.h"

#include <algorithm>
#include <cmath>

#include "simd/kernels.h"
#include "storage/prefetched_scoring.h"

namespace vecindex {
namespace {

constexpr uint32_t kSq8CodecVersion = 1;

// Each dimension's range leaves out this fraction of the training values at either end, so a
// handful of wild values cannot stretch the step for everyone (with under 100k training
// vectors it is the plain min/max). Clipping costs more than a wider step: on the Debian
// MiniLM set, cutting 0.1% a side clipped ~0.8 dimensions per vector, and its dot-product
// error (std 0.0012, worst 0.02) was 2.7x that of min/max (0.00045, worst 0.002), which
// ranked 1.2% of the true top 10 outside the estimated top 10 against 0.5%.
constexpr double kRangeTail = 1e-5;

// The query is folded into per-dimension weights q_i * step_i, rounded to int16 with one
// scale so the kernel is an exact integer dot product over the codes (pmaddwd). The rounding
// changes a distance by far less than the codes' own quantisation error.
class Sq8QueryDistance final : public QueryDistance {
 public:
  Sq8QueryDistance(const Sq8Store& store, const float* query)
      : store_(store), weights_(store.dim()), kernel_(store.weighted_bytes_i16()),
        kernel_x4_(store.weighted_bytes_i16_x4()) {
    const auto& low = store.low();
    const auto& step = store.step();
    const size_t dim = store.dim();
    std::vector<float> weights(dim);
    double offset = 0, norm_sq = 0;
    float largest = 0;
    for (size_t i = 0; i < dim; ++i) {
      weights[i] = query[i] * step[i];
      largest = std::max(largest, std::fabs(weights[i]));
      offset += static_cast<double>(query[i]) * low[i];
      norm_sq += static_cast<double>(query[i]) * query[i];
    }
    // Keeps 255 * dim * |weight| inside int32 (see Int16WeightedBytesKernel).
    const double limit = std::min(32767.0, std::floor(2147483647.0 / (255.0 * static_cast<double>(dim))));
    const double scale = largest > 0 ? limit / largest : 1.0;
    // nearbyint compiles to one instruction (lround is a libm call, ~1% of a search).
    for (size_t i = 0; i < dim; ++i) weights_[i] = static_cast<int16_t>(std::nearbyint(weights[i] * scale));
    inverse_scale_ = static_cast<float>(1.0 / scale);
    offset_ = static_cast<float>(offset);
    query_norm_sq_ = static_cast<float>(norm_sq);
  }

  float distance(uint32_t slot) const override {
    return finish(slot, kernel_(weights_.data(), store_.codes(slot), weights_.size()));
  }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    score_prefetched_x4<6>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                           [this](const uint32_t* four, float* four_out) {
                             const uint8_t* codes[4] = {store_.codes(four[0]), store_.codes(four[1]),
                                                        store_.codes(four[2]), store_.codes(four[3])};
                             int32_t raw[4];
                             kernel_x4_(weights_.data(), codes, weights_.size(), raw);
                             for (int r = 0; r < 4; ++r) four_out[r] = finish(four[r], raw[r]);
                           },
                           [this](uint32_t s) { return distance(s); });
  }
  void prefetch(uint32_t slot) const override {
    const char* code = reinterpret_cast<const char*>(store_.codes(slot));
    // Only the code bytes: the norms (l2 only) are 4 bytes a slot and mostly cached. Keep this
    // small enough to inline: GCC treats an out-of-line function holding only prefetches as
    // free of side effects and deletes calls to it (seen: no prefetch left in distances()).
    for (size_t offset = 0; offset < store_.dim(); offset += 64) __builtin_prefetch(code + offset);
  }

 private:
  float finish(uint32_t slot, int32_t raw) const {
    float dot = offset_ + inverse_scale_ * static_cast<float>(raw);
    if (store_.metric() == Metric::l2) return std::max(0.0f, query_norm_sq_ - 2 * dot + store_.stored_norm_sq(slot));
    return distance_from_dot(store_.metric(), dot);
  }

  const Sq8Store& store_;
  std::vector<int16_t> weights_;
  float inverse_scale_;
  float offset_;
  float query_norm_sq_;
  simd::Int16WeightedBytesKernel kernel_;
  simd::Int16WeightedBytesX4Kernel kernel_x4_;
};

// Value at a fraction of the sorted sample, by partial selection (the sample is copied).
float percentile(std::vector<float>& values, double fraction) {
  size_t rank = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
  return values[rank];
}

}  // namespace

Sq8Store::Sq8Store(size_t dim, Metric metric)
    : dim_(dim), metric_(metric), codes_(dim), norms_(sizeof(float)),
      weighted_bytes_i16_(simd::active_codec_kernels().weighted_bytes_i16),
      weighted_bytes_i16_x4_(simd::active_codec_kernels().weighted_bytes_i16_x4) {
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
    float lo = percentile(column, kRangeTail), hi = percentile(column, 1.0 - kRangeTail);
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
  std::memcpy(norms_.slot(slot), &norm, sizeof norm);
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

// Both codes decoded to f32, then the f32 kernels: graph building calls this a lot.
float Sq8Store::distance_between(uint32_t a, uint32_t b) const { return decoded_distance(*this, a, b); }

void Sq8Store::save(ByteWriter& out, size_t count) const {
  require_trained("saving");
  write_codec_header(out, "sq8", kSq8CodecVersion, dim_, metric_);
  out.put_array(low_.data(), dim_);
  out.put_array(step_.data(), dim_);
  if (count > codes_.capacity()) throw InvalidArgument("cannot save more slots than the store holds");
  for (uint32_t slot = 0; slot < count; ++slot) {
    out.append(codes_.slot(slot), dim_);
    out.append(norms_.slot(slot), sizeof(float));
  }
}

void Sq8Store::load(ByteReader& in, size_t count) {
  read_codec_header(in, "sq8", kSq8CodecVersion, dim_, metric_);
  std::vector<float> low = in.get_vector<float>(dim_);
  std::vector<float> step = in.get_vector<float>(dim_);
  require_finite(low.data(), dim_, in.what() + ": sq8 range");
  require_finite(step.data(), dim_, in.what() + ": sq8 steps");
  for (float s : step)
    if (!(s > 0)) throw FormatError(in.what() + ": sq8 step sizes must be positive");
  CodeArena records(bytes_per_vector());
  records.load(in, count);
  CodeArena codes(dim_), norms(sizeof(float));
  codes.reserve(count);
  norms.reserve(count);
  for (uint32_t slot = 0; slot < count; ++slot) {
    float norm;
    std::memcpy(&norm, records.slot(slot) + dim_, sizeof norm);
    if (!std::isfinite(norm) || norm < 0) throw FormatError(in.what() + ": sq8 norm of slot " + std::to_string(slot) + " is invalid");
    std::memcpy(codes.slot(slot), records.slot(slot), dim_);
    std::memcpy(norms.slot(slot), &norm, sizeof norm);
  }
  low_ = std::move(low);
  step_ = std::move(step);
  codes_ = std::move(codes);
  norms_ = std::move(norms);
  trained_ = true;
}

}  // namespace vecindex
