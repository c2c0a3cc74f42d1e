#include "storage/half_store.h"

#include <cmath>
#include <string>
#include <vector>

#include "simd/codec_kernels.h"
#include "simd/half_convert.h"
#include "storage/prefetched_scoring.h"
#include "util/errors.h"
#include "util/prefetch.h"

namespace vecindex {
namespace {

constexpr uint32_t kHalfCodecVersion = 1;

class HalfQueryDistance final : public QueryDistance {
 public:
  HalfQueryDistance(const HalfStore& store, const float* vector)
      : store_(store), query_(vector, vector + store.dim()) {}
  float distance(uint32_t slot) const override { return store_.distance_to(query_.data(), slot); }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    score_prefetched<4>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                        [this](uint32_t s) { return store_.distance_to(query_.data(), s); });
  }
  void prefetch(uint32_t slot) const override {
    const char* code = reinterpret_cast<const char*>(store_.codes(slot));
    for (size_t offset = 0; offset < store_.dim() * 2; offset += 64) prefetch_line(code + offset);
  }

 private:
  const HalfStore& store_;
  std::vector<float> query_;
};

}  // namespace

HalfStore::HalfStore(HalfKind kind, size_t dim, Metric metric)
    : kind_(kind), dim_(dim), metric_(metric), codes_(dim * 2) {
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  const simd::CodecKernelTable& kernels = simd::active_codec_kernels();
  dot_ = kind == HalfKind::f16 ? kernels.f16_dot : kernels.bf16_dot;
  l2sq_ = kind == HalfKind::f16 ? kernels.f16_l2sq : kernels.bf16_l2sq;
}

void HalfStore::check(const float* vector) const {
  // Values past the largest half would silently become infinity and poison every distance.
  // f16 values from 65520 up round to infinity; bf16 ones from (1 + 255/256) * 2^127 up.
  const float limit = kind_ == HalfKind::f16 ? 65520.0f : std::ldexp(1.99609375f, 127);
  for (size_t i = 0; i < dim_; ++i) {
    if (std::fabs(vector[i]) < limit) continue;
    if (kind_ == HalfKind::f16)
      throw InvalidArgument("value " + std::to_string(vector[i]) + " is outside the f16 range (|x| < 65504); use dtype='bf16' or 'f32'");
    throw InvalidArgument("value " + std::to_string(vector[i]) + " is outside the bf16 range; use dtype='f32'");
  }
}

void HalfStore::set(uint32_t slot, const float* vector) {
  codes_.check_slot(slot);
  check(vector);
  auto* out = reinterpret_cast<uint16_t*>(codes_.slot(slot));
  if (kind_ == HalfKind::f16) {
    for (size_t i = 0; i < dim_; ++i) out[i] = simd::float_to_half(vector[i]);
  } else {
    for (size_t i = 0; i < dim_; ++i) out[i] = simd::float_to_bf16(vector[i]);
  }
}

void HalfStore::decode(uint32_t slot, float* out) const {
  codes_.check_slot(slot);
  const uint16_t* code = codes(slot);
  if (kind_ == HalfKind::f16)
    for (size_t i = 0; i < dim_; ++i) out[i] = simd::half_to_float(code[i]);
  else
    for (size_t i = 0; i < dim_; ++i) out[i] = simd::bf16_to_float(code[i]);
}

float HalfStore::distance_to(const float* query, uint32_t slot) const {
  const uint16_t* code = codes(slot);
  if (metric_ == Metric::l2) return l2sq_(query, code, dim_);
  return distance_from_dot(metric_, dot_(query, code, dim_));
}

std::unique_ptr<QueryDistance> HalfStore::query(const float* vector) const {
  return std::make_unique<HalfQueryDistance>(*this, vector);
}

float HalfStore::distance_between(uint32_t a, uint32_t b) const {
  thread_local std::vector<float> widened;
  widened.resize(dim_);
  decode(a, widened.data());
  codes_.check_slot(b);
  return distance_to(widened.data(), b);
}

void HalfStore::save(ByteWriter& out, size_t count) const {
  write_codec_header(out, dtype(), kHalfCodecVersion, dim_, metric_);
  codes_.save(out, count);
}

void HalfStore::load(ByteReader& in, size_t count) {
  read_codec_header(in, dtype(), kHalfCodecVersion, dim_, metric_);
  codes_.load(in, count);
  // Codes with an all-ones exponent are inf/NaN: no set() can produce them, so the blob is corrupt.
  const uint16_t exponent_mask = kind_ == HalfKind::f16 ? 0x7c00u : 0x7f80u;
  for (uint32_t slot = 0; slot < count; ++slot) {
    const uint16_t* code = codes(slot);
    for (size_t i = 0; i < dim_; ++i)
      if ((code[i] & exponent_mask) == exponent_mask)
        throw FormatError(in.what() + ": " + dtype() + " code of slot " + std::to_string(slot) + " is not finite");
  }
}

}  // namespace vecindex
