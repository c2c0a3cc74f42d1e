#include "multivector/fde.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "simd/kernels.h"
#include "storage/kmeans.h"
#include "util/errors.h"

namespace vecindex {
namespace {

// The index over the encodings accepts at most this many dimensions.
constexpr size_t kMaxOutputDim = 65536;
constexpr size_t kMaxKSim = 12;

}  // namespace

void FdeConfig::validate() const {
  if (dim < 1) throw InvalidArgument("dim must be >= 1");
  if (k_sim > kMaxKSim) throw InvalidArgument("k_sim must be between 0 and " + std::to_string(kMaxKSim) + ", got " + std::to_string(k_sim));
  if (d_proj > dim) throw InvalidArgument("d_proj must be between 0 and dim=" + std::to_string(dim) + ", got " + std::to_string(d_proj));
  if (r_reps < 1 || r_reps > 4096) throw InvalidArgument("r_reps must be between 1 and 4096, got " + std::to_string(r_reps));
  if (final_dim > kMaxOutputDim) throw InvalidArgument("final_dim must be at most " + std::to_string(kMaxOutputDim));
  if (final_dim == 0 && concatenated_dim() > kMaxOutputDim)
    throw InvalidArgument("the encoding would have r_reps * 2^k_sim * d_proj = " + std::to_string(concatenated_dim()) +
                          " dimensions; at most " + std::to_string(kMaxOutputDim) +
                          " are allowed (lower them or set final_dim)");
  if (concatenated_dim() > (size_t(1) << 26)) throw InvalidArgument("r_reps * 2^k_sim * d_proj is too large");
}

uint32_t gray_to_index(uint32_t code) {
  uint32_t index = code;
  for (uint32_t shift = code >> 1; shift != 0; shift >>= 1) index ^= shift;
  return index;
}

FdeEncoder::FdeEncoder(const FdeConfig& config) : config_(config) {
  config_.validate();
  SplitMix64 rng(config_.seed);
  auto gaussian = [&rng] {
    // Box-Muller with our own generator: the same seed gives the same encoding on every
    // platform (std::normal_distribution is implementation-defined).
    double radius = std::sqrt(-2.0 * std::log(rng.unit()));
    return float(radius * std::cos(2.0 * M_PI * rng.unit()));
  };
  hyperplanes_.resize(config_.r_reps * config_.k_sim * config_.dim);
  for (float& value : hyperplanes_) value = gaussian();
  if (config_.d_proj) {
    projections_.resize(config_.r_reps * config_.d_proj * config_.dim);
    for (float& value : projections_) value = (rng.next() >> 63) ? 1.0f : -1.0f;
  }
  if (config_.final_dim) {
    final_index_.resize(config_.concatenated_dim());
    final_sign_.resize(config_.concatenated_dim());
    for (size_t i = 0; i < final_index_.size(); ++i) {
      final_index_[i] = uint32_t(rng.below(config_.final_dim));
      final_sign_[i] = (rng.next() >> 63) ? 1.0f : -1.0f;
    }
  }
}

void FdeEncoder::encode_query(const float* tokens, size_t count, float* out) const { encode(tokens, count, false, out); }
void FdeEncoder::encode_document(const float* tokens, size_t count, float* out) const { encode(tokens, count, true, out); }

void FdeEncoder::encode(const float* tokens, size_t count, bool average, float* out) const {
  const auto dot = simd::active_kernels().dot;
  const size_t dim = config_.dim, k_sim = config_.k_sim, d_proj = config_.d_proj;
  const size_t block = config_.block_dim(), buckets = config_.bucket_count();
  const size_t rep_width = buckets * block;
  // The +-1 projection scaled so that inner products are preserved in expectation.
  const float projection_scale = d_proj ? 1.0f / std::sqrt(float(d_proj)) : 1.0f;

  std::vector<float> concatenated(config_.concatenated_dim(), 0.0f);
  std::vector<uint32_t> codes(count);
  std::vector<float> projected(count * block);
  std::vector<uint32_t> members(buckets);
  for (size_t rep = 0; rep < config_.r_reps; ++rep) {
    float* rep_out = concatenated.data() + rep * rep_width;
    const float* planes = hyperplanes_.data() + rep * k_sim * dim;
    const float* matrix = d_proj ? projections_.data() + rep * d_proj * dim : nullptr;
    std::fill(members.begin(), members.end(), 0u);
    for (size_t t = 0; t < count; ++t) {
      const float* token = tokens + t * dim;
      uint32_t code = 0;
      // The first hyperplane is the most significant bit of the sign pattern.
      for (size_t h = 0; h < k_sim; ++h) code = (code << 1) | (dot(planes + h * dim, token, dim) > 0.0f ? 1u : 0u);
      codes[t] = code;
      float* row = projected.data() + t * block;
      if (matrix) {
        for (size_t p = 0; p < d_proj; ++p) row[p] = projection_scale * dot(matrix + p * dim, token, dim);
      } else {
        std::copy(token, token + dim, row);
      }
      uint32_t bucket = gray_to_index(code);
      ++members[bucket];
      float* target = rep_out + bucket * block;
      for (size_t d = 0; d < block; ++d) target[d] += row[d];
    }
    if (!average) continue;
    for (size_t bucket = 0; bucket < buckets; ++bucket) {
      float* target = rep_out + bucket * block;
      if (members[bucket] > 0) {
        const float inverse = 1.0f / float(members[bucket]);
        for (size_t d = 0; d < block; ++d) target[d] *= inverse;
        continue;
      }
      // An empty bucket takes the token whose sign pattern differs in the fewest hyperplanes
      // (the first such token on ties), so no document block is left at zero.
      const uint32_t wanted = gray_code(uint32_t(bucket));
      size_t nearest = 0;
      int nearest_distance = 1 << 30;
      for (size_t t = 0; t < count; ++t) {
        int distance = __builtin_popcount(wanted ^ codes[t]);
        if (distance < nearest_distance) {
          nearest_distance = distance;
          nearest = t;
        }
      }
      const float* row = projected.data() + nearest * block;
      std::copy(row, row + block, target);
    }
  }
  if (!config_.final_dim) {
    std::copy(concatenated.begin(), concatenated.end(), out);
    return;
  }
  std::fill(out, out + config_.final_dim, 0.0f);
  for (size_t i = 0; i < concatenated.size(); ++i) out[final_index_[i]] += final_sign_[i] * concatenated[i];
}

}  // namespace vecindex
