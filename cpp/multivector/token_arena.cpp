#include "multivector/token_arena.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "simd/chamfer_kernels.h"
#include "simd/half_convert.h"
#include "util/errors.h"

namespace vecindex {

TokenDtype parse_token_dtype(const std::string& name) {
  if (name == "f32") return TokenDtype::f32;
  if (name == "f16") return TokenDtype::f16;
  if (name == "sq8") return TokenDtype::sq8;
  throw InvalidArgument("token_dtype must be 'f32', 'f16' or 'sq8', not '" + name + "'");
}

std::string token_dtype_name(TokenDtype dtype) {
  switch (dtype) {
    case TokenDtype::f32: return "f32";
    case TokenDtype::f16: return "f16";
    case TokenDtype::sq8: return "sq8";
  }
  return "unknown";
}

TokenArena::TokenArena(size_t dim, TokenDtype dtype) : dim_(dim), dtype_(dtype) {}

size_t TokenArena::bytes_per_token() const {
  switch (dtype_) {
    case TokenDtype::f32: return dim_ * sizeof(float);
    case TokenDtype::f16: return dim_ * sizeof(uint16_t);
    case TokenDtype::sq8: return sizeof(float) + dim_;
  }
  return 0;
}

uint64_t TokenArena::append(const float* tokens, size_t count) {
  if (view_) throw StateError("the token arena of a memory-mapped index is read-only");
  const size_t width = bytes_per_token();
  const uint64_t first = token_count_;
  owned_.resize((token_count_ + count) * width);
  uint8_t* out = owned_.data() + first * width;
  for (size_t t = 0; t < count; ++t, out += width) {
    const float* row = tokens + t * dim_;
    switch (dtype_) {
      case TokenDtype::f32:
        std::memcpy(out, row, width);
        break;
      case TokenDtype::f16:
        for (size_t d = 0; d < dim_; ++d) {
          uint16_t half = simd::float_to_half(row[d]);
          std::memcpy(out + d * sizeof half, &half, sizeof half);
        }
        break;
      case TokenDtype::sq8: {
        float largest = 0;
        for (size_t d = 0; d < dim_; ++d) largest = std::max(largest, std::fabs(row[d]));
        const float scale = largest / 127.0f;
        std::memcpy(out, &scale, sizeof scale);
        auto* codes = reinterpret_cast<int8_t*>(out + sizeof scale);
        for (size_t d = 0; d < dim_; ++d)
          codes[d] = scale > 0 ? int8_t(std::clamp(std::lround(row[d] / scale), -127L, 127L)) : int8_t(0);
        break;
      }
    }
  }
  token_count_ += count;
  return first;
}

void TokenArena::truncate(uint64_t token_count) {
  if (view_ || token_count > token_count_) return;
  token_count_ = token_count;
  owned_.resize(token_count * bytes_per_token());
  owned_.shrink_to_fit();  // a failed add leaves no memory behind
}

void TokenArena::decode(uint64_t first, size_t count, float* out) const {
  const auto decode_f16 = simd::active_chamfer_kernels().decode_f16;
  const size_t width = bytes_per_token();
  const uint8_t* in = raw(first);
  for (size_t t = 0; t < count; ++t, in += width, out += dim_) {
    switch (dtype_) {
      case TokenDtype::f32:
        std::memcpy(out, in, width);
        break;
      case TokenDtype::f16:
        decode_f16(reinterpret_cast<const uint16_t*>(in), dim_, out);
        break;
      case TokenDtype::sq8: {
        float scale;
        std::memcpy(&scale, in, sizeof scale);
        const auto* codes = reinterpret_cast<const int8_t*>(in + sizeof scale);
        for (size_t d = 0; d < dim_; ++d) out[d] = scale * float(codes[d]);
        break;
      }
    }
  }
}

void TokenArena::load(const uint8_t* bytes, size_t size, uint64_t count, bool view) {
  const size_t width = bytes_per_token();
  if (count > size / width || count * width != size)
    throw FormatError("token section holds " + std::to_string(size) + " bytes, not " + std::to_string(count) +
                      " tokens of " + std::to_string(width) + " bytes");
  // A NaN token would make every score it touches NaN: refuse it at load like at add.
  std::vector<float> row(dim_);
  for (uint64_t t = 0; t < count; ++t) {
    const uint8_t* in = bytes + t * width;
    if (dtype_ == TokenDtype::sq8) {
      float scale;
      std::memcpy(&scale, in, sizeof scale);
      // Above FLT_MAX / 127 a code of 127 would decode to infinity.
      if (!(scale >= 0 && scale <= std::numeric_limits<float>::max() / 127.0f))
        throw FormatError("token " + std::to_string(t) + " has an invalid sq8 scale");
      continue;
    }
    if (dtype_ == TokenDtype::f32) {
      std::memcpy(row.data(), in, width);
    } else {
      for (size_t d = 0; d < dim_; ++d) {
        uint16_t half;
        std::memcpy(&half, in + d * sizeof half, sizeof half);
        row[d] = simd::half_to_float(half);
      }
    }
    for (float value : row)
      if (!std::isfinite(value)) throw FormatError("token " + std::to_string(t) + " holds a NaN or infinite value");
  }
  token_count_ = count;
  if (view) {
    view_ = bytes;
    owned_.clear();
    owned_.shrink_to_fit();
  } else {
    view_ = nullptr;
    owned_.assign(bytes, bytes + size);
  }
}

}  // namespace vecindex
