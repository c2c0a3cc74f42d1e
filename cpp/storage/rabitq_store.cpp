#include "storage/rabitq_store.h"

#include <algorithm>
#include <cmath>

#include "simd/kernels.h"
#include "storage/random_rotation.h"
#include "storage/prefetched_scoring.h"
#include "util/double_sums.h"
#include "util/prefetch.h"

namespace vecindex {
namespace {

constexpr uint32_t kRabitqCodecVersion = 1;

// The query rotated into the code's frame and quantised to kQueryBits per dimension, stored
// as bit planes so <bits, query> is a weighted sum of AND-popcounts.
class RabitqQueryDistance final : public BoundedQueryDistance {
 public:
  RabitqQueryDistance(const RabitqStore& store, const float* query)
      : store_(store), planes_(RabitqStore::kQueryBits * store.word_count(), 0) {
    const size_t dim = store.dim();
    std::vector<float> rotated(dim);
    store.rotate_residual(query, rotated.data());
    const double norm_sq = sum_of_squares(rotated.data(), dim);
    float low = rotated[0], high = rotated[0];
    for (float value : rotated) {
      low = std::min(low, value);
      high = std::max(high, value);
    }
    const float levels = static_cast<float>((1u << RabitqStore::kQueryBits) - 1);
    step_ = high > low ? (high - low) / levels : 1.0f;
    low_ = low;
    uint64_t level_sum = 0;
    for (size_t i = 0; i < dim; ++i) {
      // Not negative (low is the minimum), so adding a half and truncating rounds as
      // std::lround does, without its libm call (dim calls a query).
      auto level = static_cast<uint32_t>(static_cast<double>((rotated[i] - low) / step_) + 0.5);
      level = std::min(level, static_cast<uint32_t>(levels));
      level_sum += level;
      for (size_t p = 0; p < RabitqStore::kQueryBits; ++p)
        if (level & (1u << p)) planes_[p * store.word_count() + i / 64] |= uint64_t{1} << (i % 64);
    }
    quantised_sum_ = static_cast<float>(dim) * low_ + step_ * static_cast<float>(level_sum);
    query_norm_ = static_cast<float>(std::sqrt(norm_sq));
    query_norm_sq_ = static_cast<float>(norm_sq);
    inv_sqrt_dim_ = 1.0f / std::sqrt(static_cast<float>(dim));
    // Rounding each coordinate to the grid adds an error of std step/sqrt(12) to <xbar, q>;
    // three standard deviations keep it inside the bound with the same confidence.
    rounding_bound_ = 3.0f * step_ / std::sqrt(12.0f);
    if (store.metric() != Metric::l2) {
      query_center_dot_ = static_cast<float>(sum_of_products(store.centroid().data(), query, dim));
    }
  }

  float distance_with_bound(uint32_t slot, float* bound) const override {
    const simd::CodecKernelTable& kernels = store_.kernels();
    const uint64_t* bits = store_.bits(slot);
    const size_t words = store_.word_count();
    RabitqFactors f = store_.factors(slot);
    float set_bits = static_cast<float>(kernels.popcount(bits, words));
    float weighted = static_cast<float>(kernels.bitplane_dot(bits, planes_.data(), words, RabitqStore::kQueryBits));
    // <xbar, q'> = (2 * sum_{b_i=1} q'_i - sum_i q'_i) / sqrt(dim), with q' on its 4-bit grid.
    float code_dot_query = (2.0f * (step_ * weighted + low_ * set_bits) - quantised_sum_) * inv_sqrt_dim_;
    float residual_dot = f.rescale * code_dot_query;  // estimate of <x - c, q - c>
    float error = RabitqStore::kErrorConfidence * query_norm_ * f.error_scale + std::fabs(f.rescale) * rounding_bound_;
    if (store_.metric() == Metric::l2) {
      *bound = 2.0f * error;
      return std::max(0.0f, f.residual_norm_sq + query_norm_sq_ - 2.0f * residual_dot);
    }
    *bound = error;
    // <x, q> = <x - c, q - c> + <x - c, c> + <c, q>
    return distance_from_dot(store_.metric(), residual_dot + f.center_dot + query_center_dot_);
  }
  float distance(uint32_t slot) const override {
    float bound;
    return distance_with_bound(slot, &bound);
  }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    score_prefetched<8>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                        [this](uint32_t s) { return distance(s); });
  }
  void prefetch(uint32_t slot) const override { prefetch_line(store_.bits(slot)); }

 private:

  const RabitqStore& store_;
  std::vector<uint64_t> planes_;
  float low_ = 0, step_ = 1, quantised_sum_ = 0;
  float query_norm_ = 0, query_norm_sq_ = 0, inv_sqrt_dim_ = 1, rounding_bound_ = 0;
  float query_center_dot_ = 0;
};

}  // namespace

RabitqStore::RabitqStore(size_t dim, Metric metric, uint64_t seed)
    : dim_(dim), metric_(metric), seed_(seed), words_((dim + 63) / 64),
      codes_(words_ * sizeof(uint64_t) + sizeof(RabitqFactors)), kernels_(simd::active_codec_kernels()) {
  if (dim < 2) throw InvalidArgument("rabitq needs dim >= 2");
}

void RabitqStore::require_trained(const char* operation) const {
  if (!trained_)
    throw StateError(std::string("rabitq store must be trained before ") + operation + "; call train() with at least " +
                     std::to_string(kMinTrainingSize) + " vectors");
}

size_t RabitqStore::memory_bytes() const {
  return codes_.memory_bytes() + (centroid_.size() + rotation_.size()) * sizeof(float);
}

void RabitqStore::train(const float* vectors, size_t count, size_t threads) {
  if (count < kMinTrainingSize)
    throw InvalidArgument("rabitq training needs at least " + std::to_string(kMinTrainingSize) + " vectors, got " +
                          std::to_string(count));
  std::vector<double> mean(dim_, 0.0);
  for (size_t i = 0; i < count; ++i)
    for (size_t d = 0; d < dim_; ++d) mean[d] += vectors[i * dim_ + d];
  std::vector<float> centroid(dim_);
  for (size_t d = 0; d < dim_; ++d) {
    centroid[d] = static_cast<float>(mean[d] / static_cast<double>(count));
    if (!std::isfinite(centroid[d])) throw InvalidArgument("rabitq training vectors contain NaN or infinity");
  }
  rotation_ = random_rotation(dim_, seed_);
  centroid_ = std::move(centroid);
  trained_ = true;
}

void RabitqStore::rotate_residual(const float* vector, float* out) const {
  thread_local std::vector<float> residual;
  residual.resize(dim_);
  for (size_t d = 0; d < dim_; ++d) residual[d] = vector[d] - centroid_[d];
  const simd::PairKernel dot = simd::active_kernels().dot;
  for (size_t row = 0; row < dim_; ++row) out[row] = dot(rotation_.data() + row * dim_, residual.data(), dim_);
}

void RabitqStore::rotate_residuals(const float* vectors, size_t n, float* out) const {
  thread_local std::vector<float> residuals;
  residuals.resize(n * dim_);
  for (size_t v = 0; v < n; ++v)
    for (size_t d = 0; d < dim_; ++d) residuals[v * dim_ + d] = vectors[v * dim_ + d] - centroid_[d];
  const simd::PairKernel dot = simd::active_kernels().dot;
  for (size_t row = 0; row < dim_; ++row)
    for (size_t v = 0; v < n; ++v) out[v * dim_ + row] = dot(rotation_.data() + row * dim_, residuals.data() + v * dim_, dim_);
}

RabitqFactors RabitqStore::factors(uint32_t slot) const {
  RabitqFactors f;
  std::memcpy(&f, codes_.slot(slot) + words_ * sizeof(uint64_t), sizeof f);
  return f;
}

void RabitqStore::set(uint32_t slot, const float* vector) {
  require_trained("adding vectors");
  codes_.check_slot(slot);
  std::vector<float> rotated(dim_);
  rotate_residual(vector, rotated.data());
  double norm_sq = 0, abs_sum = 0, center_dot = 0;
  for (size_t d = 0; d < dim_; ++d) {
    norm_sq += static_cast<double>(rotated[d]) * rotated[d];
    abs_sum += std::fabs(rotated[d]);
    center_dot += static_cast<double>(vector[d] - centroid_[d]) * centroid_[d];
  }
  auto* bits = reinterpret_cast<uint64_t*>(codes_.slot(slot));
  std::fill(bits, bits + words_, 0);
  for (size_t d = 0; d < dim_; ++d)
    if (rotated[d] > 0) bits[d / 64] |= uint64_t{1} << (d % 64);
  RabitqFactors f{};
  double norm = std::sqrt(norm_sq);
  f.residual_norm_sq = static_cast<float>(norm_sq);
  f.center_dot = static_cast<float>(center_dot);
  if (norm > 0) {
    // <xbar, o> = sum |o_i| / sqrt(dim) >= 1/sqrt(dim) > 0, so the division is safe.
    double alignment = abs_sum / norm / std::sqrt(static_cast<double>(dim_));
    f.rescale = static_cast<float>(norm / alignment);
    double spread = std::sqrt(std::max(0.0, 1.0 - alignment * alignment)) / alignment;
    f.error_scale = static_cast<float>(norm * spread / std::sqrt(static_cast<double>(dim_ - 1)));
  }
  std::memcpy(codes_.slot(slot) + words_ * sizeof(uint64_t), &f, sizeof f);
}

// Best reconstruction from the code: c + ||x - c|| <xbar, o> P^T xbar.
void RabitqStore::decode(uint32_t slot, float* out) const {
  require_trained("decoding");
  codes_.check_slot(slot);
  const uint64_t* code = bits(slot);
  RabitqFactors f = factors(slot);
  float scale = f.rescale != 0 ? f.residual_norm_sq / f.rescale / std::sqrt(static_cast<float>(dim_)) : 0.0f;
  std::copy(centroid_.begin(), centroid_.end(), out);
  for (size_t row = 0; row < dim_; ++row) {
    float sign = (code[row / 64] >> (row % 64)) & 1 ? scale : -scale;
    const float* axis = rotation_.data() + row * dim_;
    for (size_t d = 0; d < dim_; ++d) out[d] += sign * axis[d];
  }
}

std::unique_ptr<QueryDistance> RabitqStore::query(const float* vector) const {
  if (!is_trained()) return std::make_unique<UntrainedQueryDistance>(dtype());
  return std::make_unique<RabitqQueryDistance>(*this, vector);
}

// Code-to-code estimate for graph building: the angle between two residuals is about
// pi * hamming / dim (sign-random-projection), so <r_a, r_b> ~ |r_a| |r_b| cos(angle).
float RabitqStore::distance_between(uint32_t a, uint32_t b) const {
  require_trained("computing distances");
  codes_.check_slot(a);
  codes_.check_slot(b);
  uint64_t hamming = kernels_.xor_popcount(bits(a), bits(b), words_);
  RabitqFactors fa = factors(a), fb = factors(b);
  float angle = static_cast<float>(M_PI) * static_cast<float>(hamming) / static_cast<float>(dim_);
  float residual_dot = std::sqrt(fa.residual_norm_sq * fb.residual_norm_sq) * std::cos(angle);
  if (metric_ == Metric::l2) return std::max(0.0f, fa.residual_norm_sq + fb.residual_norm_sq - 2.0f * residual_dot);
  double center_norm_sq = 0;
  for (float value : centroid_) center_norm_sq += static_cast<double>(value) * value;
  return distance_from_dot(metric_, residual_dot + fa.center_dot + fb.center_dot + static_cast<float>(center_norm_sq));
}

void RabitqStore::save(ByteWriter& out, size_t count) const {
  require_trained("saving");
  write_codec_header(out, "rabitq", kRabitqCodecVersion, dim_, metric_);
  out.put_array(centroid_.data(), dim_);
  out.put_array(rotation_.data(), dim_ * dim_);
  codes_.save(out, count);
}

void RabitqStore::load(ByteReader& in, size_t count) {
  read_codec_header(in, "rabitq", kRabitqCodecVersion, dim_, metric_);
  std::vector<float> centroid = in.get_vector<float>(dim_);
  require_finite(centroid.data(), dim_, in.what() + ": rabitq centroid");
  std::vector<float> rotation = in.get_vector<float>(dim_ * dim_);
  require_finite(rotation.data(), rotation.size(), in.what() + ": rabitq rotation");
  if (orthogonality_error(rotation, dim_) > 1e-3) throw FormatError(in.what() + ": rabitq rotation is not orthogonal");
  CodeArena codes(codes_.stride());
  codes.load(in, count);
  for (uint32_t slot = 0; slot < count; ++slot) {
    RabitqFactors f;
    std::memcpy(&f, codes.slot(slot) + words_ * sizeof(uint64_t), sizeof f);
    if (!std::isfinite(f.residual_norm_sq) || f.residual_norm_sq < 0 || !std::isfinite(f.rescale) ||
        !std::isfinite(f.error_scale) || f.error_scale < 0 || !std::isfinite(f.center_dot))
      throw FormatError(in.what() + ": rabitq factors of slot " + std::to_string(slot) + " are invalid");
    // Padding bits past dim must be zero, or popcounts would count phantom dimensions.
    uint64_t last_word;
    std::memcpy(&last_word, codes.slot(slot) + (words_ - 1) * sizeof(uint64_t), sizeof last_word);
    if (dim_ % 64 != 0 && (last_word >> (dim_ % 64)) != 0)
      throw FormatError(in.what() + ": rabitq code of slot " + std::to_string(slot) + " has bits past dim");
  }
  centroid_ = std::move(centroid);
  rotation_ = std::move(rotation);
  codes_ = std::move(codes);
  trained_ = true;
}

}  // namespace vecindex
