#include "storage/scalar_quant_store.h"

#include <algorithm>
#include <cmath>

#include "simd/kernels.h"
#include "storage/prefetched_scoring.h"
#include "util/double_sums.h"
#include "util/parallel.h"
#include "util/prefetch.h"

namespace vecindex {
namespace {

constexpr uint32_t kCodecVersion = 1;

// Each dimension's range leaves out this fraction of the training values at either end, so a
// handful of wild values cannot stretch the step for everyone (with under 100k training
// vectors it is the plain min/max). Clipping costs more than a wider step: on the Debian
// MiniLM set, cutting 0.1% a side clipped ~0.8 dimensions per vector, and its dot-product
// error (std 0.0012, worst 0.02) was 2.7x that of min/max (0.00045, worst 0.002), which
// ranked 1.2% of the true top 10 outside the estimated top 10 against 0.5%.
constexpr double kRangeTail = 1e-5;

// Eight running maxima, so the loop vectorises (one running maximum is a dependent chain).
float largest_magnitude(const float* values, size_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t l = 0; l < 8; ++l) lane[l] = std::max(lane[l], std::fabs(values[i + l]));
  for (; i < n; ++i) lane[0] = std::max(lane[0], std::fabs(values[i]));
  return *std::max_element(lane, lane + 8);
}

// The query is folded into per-dimension weights q_i * step_i, rounded to int16 with one
// scale so the kernel is an exact integer dot product over the codes (pmaddwd). The rounding
// changes a distance by far less than the codes' own quantisation error.
class ScalarQueryDistance final : public QueryDistance {
 public:
  ScalarQueryDistance(const ScalarQuantStore& store, const float* query)
      : store_(store), weights_(store.weight_count(), 0), kernels_(store.kernels()), nibbles_(store.bits() == 4) {
    const auto& low = store.low();
    const auto& step = store.step();
    const size_t dim = store.dim();
    std::vector<float> weights(dim);
    for (size_t i = 0; i < dim; ++i) weights[i] = query[i] * step[i];
    const float largest = largest_magnitude(weights.data(), dim);
    const double offset = sum_of_products(query, low.data(), dim);
    const double norm_sq = sum_of_squares(query, dim);
    // Keeps levels * weight_count * |weight| inside int32 (see the kernels' overflow rule).
    const double terms = static_cast<double>(store.levels()) * static_cast<double>(weights_.size());
    const double limit = std::min(32767.0, std::floor(2147483647.0 / terms));
    const double scale = largest > 0 ? limit / largest : 1.0;
    // Rounded half away from zero without a branch: std::nearbyint is a libm call in the
    // portable build (its one-instruction form needs SSE4.1), and a branch on the sign
    // mispredicts half the time; either cost ~2 us a query at dim 384.
    for (size_t i = 0; i < dim; ++i) {
      const double scaled = weights[i] * scale;
      weights_[i] = static_cast<int16_t>(scaled + std::copysign(0.5, scaled));
    }
    inverse_scale_ = static_cast<float>(1.0 / scale);
    // A value inside its code range is off by at most step_i / 2 after rounding, spread about
    // uniformly, so q.x's error has variance sum_i (q_i step_i)^2 / 12. On the Debian set's
    // sq4 codes this predicted the measured spread (0.00759 both). l2 has no such model: its
    // error, (x' - x).(x' + x - 2q), depends on the row as much as on the query.
    if (store.metric() != Metric::l2) dot_spread_ = static_cast<float>(std::sqrt(sum_of_squares(weights.data(), dim) / 12));
    offset_ = static_cast<float>(offset);
    query_norm_sq_ = static_cast<float>(norm_sq);
  }

  float error_spread() const override { return dot_spread_; }
  float distance(uint32_t slot) const override {
    const uint8_t* code = store_.codes(slot);
    int32_t raw = nibbles_ ? kernels_.weighted_nibbles_i16(weights_.data(), code, weights_.size() / 32)
                           : kernels_.weighted_bytes_i16(weights_.data(), code, weights_.size());
    return finish(slot, raw);
  }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    // Rows requested ahead. On an AVX-512 Zen 5 machine (paired A/Bs, Debian set 50k and a
    // 300k scaled set) sq8 gained 4% going from 6 to 12 (32 was no better) and sq4 2% from 8
    // to 16: a faster core needs the rows requested earlier.
    if (nibbles_) score_in_fours<16>(slots, count, out);
    else score_in_fours<12>(slots, count, out);
  }
  void prefetch(uint32_t slot) const override {
    const char* code = reinterpret_cast<const char*>(store_.codes(slot));
    // Only the code bytes: the norms (l2 only) are 4 bytes a slot and mostly cached.
    for (size_t offset = 0; offset < store_.row_bytes(); offset += 64) prefetch_line(code + offset);
  }

 private:
  template <size_t Ahead>
  void score_in_fours(const uint32_t* slots, size_t count, float* out) const {
    score_prefetched_x4<Ahead>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                               [this](const uint32_t* four, float* four_out) {
                                 const uint8_t* codes[4] = {store_.codes(four[0]), store_.codes(four[1]),
                                                            store_.codes(four[2]), store_.codes(four[3])};
                                 int32_t raw[4];
                                 if (nibbles_)
                                   kernels_.weighted_nibbles_i16_x4(weights_.data(), codes, weights_.size() / 32, raw);
                                 else
                                   kernels_.weighted_bytes_i16_x4(weights_.data(), codes, weights_.size(), raw);
                                 for (int r = 0; r < 4; ++r) four_out[r] = finish(four[r], raw[r]);
                               },
                               [this](uint32_t s) { return distance(s); });
  }

  float finish(uint32_t slot, int32_t raw) const {
    float dot = offset_ + inverse_scale_ * static_cast<float>(raw);
    if (store_.metric() == Metric::l2) return std::max(0.0f, query_norm_sq_ - 2 * dot + store_.stored_norm_sq(slot));
    return distance_from_dot(store_.metric(), dot);
  }

  const ScalarQuantStore& store_;
  std::vector<int16_t> weights_;
  float dot_spread_ = 0;  // 0 for l2
  const simd::CodecKernelTable& kernels_;
  bool nibbles_;
  float inverse_scale_;
  float offset_;
  float query_norm_sq_;
};

// Value at a fraction of the sorted sample, by partial selection (reorders the sample).
float percentile(float* values, size_t count, double fraction) {
  size_t rank = static_cast<size_t>(fraction * static_cast<double>(count - 1) + 0.5);
  std::nth_element(values, values + rank, values + count);
  return values[rank];
}

size_t code_row_bytes(size_t dim, unsigned bits) { return bits == 8 ? dim : (dim + 31) / 32 * 16; }

}  // namespace

ScalarQuantStore::ScalarQuantStore(size_t dim, Metric metric, unsigned bits)
    : dim_(dim), metric_(metric), bits_(bits), row_bytes_(code_row_bytes(dim, bits)), codes_(row_bytes_),
      norms_(sizeof(float)), kernels_(simd::active_codec_kernels()) {
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (bits != 8 && bits != 4) throw InvalidArgument("scalar quantisation supports 8 or 4 bits");
}

// sq4: byte t of block b holds dimension 32b + t in its low nibble and 32b + 16 + t in its high one.
unsigned ScalarQuantStore::code_at(const uint8_t* row, size_t d) const {
  if (bits_ == 8) return row[d];
  uint8_t byte = row[d / 32 * 16 + d % 16];
  return d % 32 < 16 ? byte & 0x0F : byte >> 4;
}

void ScalarQuantStore::put_code(uint8_t* row, size_t d, unsigned level) const {
  if (bits_ == 8) {
    row[d] = static_cast<uint8_t>(level);
    return;
  }
  uint8_t& byte = row[d / 32 * 16 + d % 16];
  byte = d % 32 < 16 ? static_cast<uint8_t>((byte & 0xF0) | level) : static_cast<uint8_t>((byte & 0x0F) | (level << 4));
}

void ScalarQuantStore::require_trained(const char* operation) const {
  if (!trained_)
    throw StateError(dtype() + " store must be trained before " + operation + "; call train() with at least " +
                     std::to_string(kMinTrainingSize) + " vectors");
}

void ScalarQuantStore::train(const float* vectors, size_t count, size_t threads) {
  if (count < kMinTrainingSize)
    throw InvalidArgument(dtype() + " training needs at least " + std::to_string(kMinTrainingSize) +
                          " vectors, got " + std::to_string(count));
  std::vector<float> low(dim_), step(dim_);
  const float levels = static_cast<float>(this->levels());
  // Dimensions in groups of one cache line's floats, the groups spread over the threads: one
  // pass over the rows gathers a whole group's columns, where a column at a time read every
  // row's line once per dimension (a serial 0.1 s of a 50k x 384 default build's 4 s).
  constexpr size_t kGroup = 16;  // floats in a 64-byte line
  const size_t groups = (dim_ + kGroup - 1) / kGroup;
  parallel_for(groups, threads, [&](size_t group, size_t) {
    const size_t first = group * kGroup, width = std::min(kGroup, dim_ - first);
    std::vector<float> columns(width * count);
    for (size_t i = 0; i < count; ++i)
      for (size_t j = 0; j < width; ++j) columns[j * count + i] = vectors[i * dim_ + first + j];
    for (size_t j = 0; j < width; ++j) {
      float* column = columns.data() + j * count;
      float lo = percentile(column, count, kRangeTail), hi = percentile(column, count, 1.0 - kRangeTail);
      if (!std::isfinite(lo) || !std::isfinite(hi))
        throw InvalidArgument(dtype() + " training vectors contain NaN or infinity");
      const size_t d = first + j;
      low[d] = lo;
      // A constant dimension still needs a positive step so encoding never divides by zero.
      step[d] = hi > lo ? (hi - lo) / levels : std::max(std::fabs(lo), 1.0f) * 1e-6f;
    }
  });
  if (!range_decodes_finite(low, step))
    throw InvalidArgument(dtype() + " training vectors are too large: squared norms of their codes overflow");
  low_ = std::move(low);
  step_ = std::move(step);
  trained_ = true;
}

// Every decodable value, and the squared norm of any code, must stay finite.
bool ScalarQuantStore::range_decodes_finite(const std::vector<float>& low, const std::vector<float>& step) const {
  double largest = 0;
  for (size_t d = 0; d < dim_; ++d)
    largest = std::max({largest, std::fabs(double(low[d])), std::fabs(double(low[d]) + levels() * double(step[d]))});
  return largest * largest * double(dim_) < 1e38;
}

void ScalarQuantStore::set(uint32_t slot, const float* vector) {
  require_trained("adding vectors");
  codes_.check_slot(slot);
  uint8_t* code = codes_.slot(slot);
  std::memset(code, 0, row_bytes_);
  const float top = static_cast<float>(levels());
  double norm_sq = 0;
  for (size_t d = 0; d < dim_; ++d) {
    float level = std::nearbyint((vector[d] - low_[d]) / step_[d]);
    level = std::min(top, std::max(0.0f, level));  // also maps NaN-free out-of-range values to the ends
    put_code(code, d, static_cast<unsigned>(level));
    float decoded = low_[d] + step_[d] * level;
    norm_sq += static_cast<double>(decoded) * decoded;
  }
  float norm = static_cast<float>(norm_sq);
  std::memcpy(norms_.slot(slot), &norm, sizeof norm);
}

void ScalarQuantStore::decode(uint32_t slot, float* out) const {
  require_trained("decoding");
  codes_.check_slot(slot);
  decode_row(codes_.slot(slot), out);
}

// One loop per code width, with the sizes in locals and `out` restrict-qualified: either a
// width test per dimension or a store through `out` that might alias dim_ kept the loop
// scalar, when decoding both codes of each link distance was 95% of a MultiVectorIndex build.
void ScalarQuantStore::decode_row(const uint8_t* code, float* __restrict out) const {
  const float* __restrict low = low_.data();
  const float* __restrict step = step_.data();
  const size_t dim = dim_;
  if (bits_ == 8) {
    for (size_t d = 0; d < dim; ++d) out[d] = low[d] + step[d] * static_cast<float>(code[d]);
    return;
  }
  size_t d = 0;
  for (; d + 32 <= dim; d += 32, code += 16) {
    for (size_t t = 0; t < 16; ++t) {
      out[d + t] = low[d + t] + step[d + t] * static_cast<float>(code[t] & 0x0F);
      out[d + 16 + t] = low[d + 16 + t] + step[d + 16 + t] * static_cast<float>(code[t] >> 4);
    }
  }
  for (size_t rest = d; rest < dim; ++rest)
    out[rest] = low[rest] + step[rest] * static_cast<float>(code_at(code, rest - d));
}

std::unique_ptr<QueryDistance> ScalarQuantStore::query(const float* vector) const {
  if (!is_trained()) return std::make_unique<UntrainedQueryDistance>(dtype());
  return std::make_unique<ScalarQueryDistance>(*this, vector);
}

// Graphs of indexes that keep full vectors link on those instead. sq8 compares the two codes
// in one pass (decoding both to memory first made a MultiVectorIndex build 2.7x slower); sq4
// decodes both and uses the f32 kernels.
float ScalarQuantStore::distance_between(uint32_t a, uint32_t b) const {
  if (bits_ != 8) return decoded_distance(*this, a, b);
  require_trained("comparing codes");
  codes_.check_slot(a);
  codes_.check_slot(b);
  if (metric_ == Metric::l2) return kernels_.sq8_pair_l2sq(low_.data(), step_.data(), codes_.slot(a), codes_.slot(b), dim_);
  return distance_from_dot(metric_, kernels_.sq8_pair_dot(low_.data(), step_.data(), codes_.slot(a), codes_.slot(b), dim_));
}

void ScalarQuantStore::save(ByteWriter& out, size_t count) const {
  require_trained("saving");
  write_codec_header(out, dtype(), kCodecVersion, dim_, metric_);
  out.put_array(low_.data(), dim_);
  out.put_array(step_.data(), dim_);
  if (count > codes_.capacity()) throw InvalidArgument("cannot save more slots than the store holds");
  for (uint32_t slot = 0; slot < count; ++slot) {
    out.append(codes_.slot(slot), row_bytes_);
    out.append(norms_.slot(slot), sizeof(float));
  }
}

void ScalarQuantStore::load(ByteReader& in, size_t count) {
  const std::string name = dtype();
  read_codec_header(in, name, kCodecVersion, dim_, metric_);
  std::vector<float> low = in.get_vector<float>(dim_);
  std::vector<float> step = in.get_vector<float>(dim_);
  require_finite(low.data(), dim_, in.what() + ": " + name + " range");
  require_finite(step.data(), dim_, in.what() + ": " + name + " steps");
  for (float s : step)
    if (!(s > 0)) throw FormatError(in.what() + ": " + name + " step sizes must be positive");
  // A damaged range would otherwise turn later adds and decodes into inf.
  if (!range_decodes_finite(low, step))
    throw FormatError(in.what() + ": " + name + " code range is too large to decode");
  CodeArena records(bytes_per_vector());
  records.load(in, count);
  CodeArena codes(row_bytes_), norms(sizeof(float));
  codes.reserve(count);
  norms.reserve(count);
  for (uint32_t slot = 0; slot < count; ++slot) {
    float norm;
    std::memcpy(&norm, records.slot(slot) + row_bytes_, sizeof norm);
    if (!std::isfinite(norm) || norm < 0)
      throw FormatError(in.what() + ": " + name + " norm of slot " + std::to_string(slot) + " is invalid");
    std::memcpy(codes.slot(slot), records.slot(slot), row_bytes_);
    std::memcpy(norms.slot(slot), &norm, sizeof norm);
  }
  low_ = std::move(low);
  step_ = std::move(step);
  codes_ = std::move(codes);
  norms_ = std::move(norms);
  trained_ = true;
}

}  // namespace vecindex
