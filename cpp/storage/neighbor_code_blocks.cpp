#include "storage/neighbor_code_blocks.h"

#include <algorithm>
#include <cmath>

#include "util/double_sums.h"

namespace vecindex {
namespace {

size_t round_up64(size_t bytes) { return (bytes + 63) / 64 * 64; }

// The 4 code bits of dimensions 4g..4g+3 (bit k = dimension 4g + k): a group never straddles
// two words because 64 is a multiple of 4.
uint8_t nibble(const uint64_t* bits, size_t group) {
  return uint8_t((bits[(4 * group) / 64] >> ((4 * group) % 64)) & 0xF);
}

}  // namespace

NeighborCodeBlocks::NeighborCodeBlocks(size_t dim, size_t max_degree)
    : dim_(dim), max_degree_(max_degree), groups_((dim + 3) / 4), batches_((max_degree + kBatch - 1) / kBatch),
      codes_offset_(round_up64((1 + max_degree) * sizeof(uint32_t))),
      factors_offset_(codes_offset_ + round_up64(batches_ * groups_ * 16)),
      blocks_(factors_offset_ + round_up64(3 * max_degree * sizeof(float))) {}

void NeighborCodeBlocks::build(uint32_t slot, const uint32_t* ids, size_t count, const RabitqStore& codes) {
  count = std::min(count, max_degree_);
  uint8_t* block = blocks_.slot(slot);
  uint32_t* head = header(slot);
  std::copy(ids, ids + count, head + 1);
  std::fill(head + 1 + count, head + 1 + max_degree_, 0u);
  uint8_t* packed_codes = block + codes_offset_;
  std::fill(packed_codes, packed_codes + batches_ * groups_ * 16, uint8_t(0));
  float* rescale = reinterpret_cast<float*>(block + factors_offset_);
  float* offset = rescale + max_degree_;
  float* error = offset + max_degree_;
  const bool l2 = codes.metric() == Metric::l2;
  for (size_t j = 0; j < count; ++j) {
    const uint64_t* bits = codes.bits(ids[j]);
    const size_t batch = j / kBatch, lane = j % kBatch;
    uint8_t* out = packed_codes + batch * groups_ * 16 + (lane % 16);
    const int shift = lane < 16 ? 0 : 4;
    for (size_t g = 0; g < groups_; ++g) out[g * 16] |= uint8_t(nibble(bits, g) << shift);
    const RabitqFactors f = codes.factors(ids[j]);
    rescale[j] = f.rescale;
    offset[j] = l2 ? f.residual_norm_sq : f.center_dot;
    error[j] = f.error_scale;
  }
  for (size_t j = count; j < max_degree_; ++j) rescale[j] = offset[j] = error[j] = 0.0f;
  head[0] = uint32_t(count) | kBuilt;
}

NeighborCodeQuery::NeighborCodeQuery(const RabitqStore& codes, const NeighborCodeBlocks& blocks, const float* query,
                                     const float* rotated_query)
    : blocks_(blocks), kernels_(codes.kernels()), metric_(codes.metric()), tables_(blocks.groups() * 16) {
  const size_t dim = codes.dim(), groups = blocks.groups();
  thread_local std::vector<float> rotated, sums, lows;
  rotated.assign(groups * 4, 0.0f);  // padded with zeros past dim
  std::copy(rotated_query, rotated_query + dim, rotated.begin());
  sums.resize(groups * 16);
  lows.resize(groups);
  double norm_sq = 0, total = 0;
  float widest = 0;
  for (size_t g = 0; g < groups; ++g) {
    const float* q = rotated.data() + 4 * g;
    float* sum = sums.data() + g * 16;
    sum[0] = 0;
    for (unsigned n = 1; n < 16; ++n) sum[n] = sum[n & (n - 1)] + q[__builtin_ctz(n)];  // one more bit each
    // The smallest subset sum takes every negative coordinate, the largest every positive one.
    float low = 0, high = 0;
    for (unsigned k = 0; k < 4; ++k) (q[k] < 0 ? low : high) += q[k];
    lows[g] = low;
    widest = std::max(widest, high - low);
    for (unsigned k = 0; k < 4; ++k) {
      norm_sq += double(q[k]) * q[k];
      total += q[k];
    }
  }
  // The kernel sums groups entries in uint16: the largest entry keeps that sum <= 65535.
  const float top = float(std::min<size_t>(255, 65535 / std::max<size_t>(groups, 1)));
  step_ = widest > 0 ? widest / top : 1.0f;
  const float inverse_step = 1.0f / step_;
  double base = 0;
  uint8_t* table = tables_.data();
  for (size_t g = 0; g < groups; ++g) {
    base += lows[g];
    const float* sum = sums.data() + g * 16;
    for (unsigned n = 0; n < 16; ++n) {
      const float level = (sum[n] - lows[g]) * inverse_step + 0.5f;  // >= 0: truncation rounds
      table[g * 16 + n] = uint8_t(std::min(top, level));
    }
  }
  table_base_ = float(base);
  query_sum_ = float(total);
  query_norm_sq_ = float(norm_sq);
  query_norm_ = std::sqrt(query_norm_sq_);
  inv_sqrt_dim_ = 1.0f / std::sqrt(float(dim));
  // The rounding error of sum_{b_i=1} q'_i enters <xbar, q'> doubled and over sqrt(dim).
  rounding_bound_ = kWalkConfidence * step_ * std::sqrt(float(groups) / 12.0f) * 2.0f * inv_sqrt_dim_;
  if (metric_ != Metric::l2) {
    query_center_dot_ = float(sum_of_products(codes.centroid().data(), query, dim));
  }
}

void NeighborCodeQuery::estimate(uint32_t slot, float* estimates, float* bounds) const {
  const size_t count = blocks_.count(slot), degree = blocks_.max_degree();
  const float* rescale = blocks_.factors(slot);
  const float* offset = rescale + degree;
  const float* error = offset + degree;
  uint16_t sums[NeighborCodeBlocks::kBatch];
  for (size_t batch = 0; batch * NeighborCodeBlocks::kBatch < count; ++batch) {
    kernels_.fastscan32(blocks_.packed(slot, batch), tables_.data(), blocks_.groups(), sums);
    const size_t first = batch * NeighborCodeBlocks::kBatch;
    const size_t last = std::min(count, first + NeighborCodeBlocks::kBatch);
    for (size_t j = first; j < last; ++j) {
      // sum_{b_i=1} q'_i ~ step * table sum + base; <xbar, q'> = (2 that - sum_i q'_i) / sqrt(dim).
      const float set_sum = step_ * float(sums[j - first]) + table_base_;
      const float residual_dot = rescale[j] * (2.0f * set_sum - query_sum_) * inv_sqrt_dim_;
      const float bound = kWalkConfidence * query_norm_ * error[j] + std::fabs(rescale[j]) * rounding_bound_;
      if (metric_ == Metric::l2) {
        estimates[j] = std::max(0.0f, offset[j] + query_norm_sq_ - 2.0f * residual_dot);
        bounds[j] = 2.0f * bound;
      } else {
        estimates[j] = distance_from_dot(metric_, residual_dot + offset[j] + query_center_dot_);
        bounds[j] = bound;
      }
    }
  }
}

}  // namespace vecindex
