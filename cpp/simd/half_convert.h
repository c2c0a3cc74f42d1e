// Software conversions between f32 and 16-bit floats (IEEE half, bfloat16).
// Functions are `static inline` so every translation unit keeps its own copy: an ISA-flagged
// kernel file including this header can never donate its copy to baseline callers.
#pragma once

#include <cstdint>
#include <cstring>

namespace vecindex::simd {

static inline uint32_t float_bits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

static inline float bits_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// Exact: every half value is representable as a float. Branch-free (three candidates and a
// select), so a loop over a row vectorises with the baseline ISA. Zero and subnormal halves go
// through an int-to-float conversion rather than float subnormals, so a process running with
// denormals-are-zero set still decodes them.
static inline float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t magnitude = half & 0x7fffu;
  const uint32_t normal = (magnitude << 13) + (112u << 23);  // exponent rebiased from 15 to 127
  const uint32_t special = (magnitude << 13) | 0x7f800000u;  // exponent 31: inf or NaN, mantissa kept
  const uint32_t tiny = float_bits(static_cast<float>(magnitude) * (1.0f / 16777216.0f));  // m * 2^-24
  const uint32_t bits = magnitude >= 0x7c00u ? special : (magnitude < 0x400u ? tiny : normal);
  return bits_float(sign | bits);
}

// Round to nearest, ties to even (what numpy's astype(float16) and F16C do); overflow -> inf.
static inline uint16_t float_to_half(float value) {
  uint32_t bits = float_bits(value);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  uint32_t magnitude = bits & 0x7fffffffu;
  if (magnitude >= 0x7f800000u)  // inf or nan
    return sign | 0x7c00u | (magnitude > 0x7f800000u ? 0x200u : 0u);
  if (magnitude >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: overflow
  if (magnitude < 0x38800000u) {
    // Result is subnormal or zero: scale into units of 2^-24 and round half to even.
    if (magnitude < 0x33000000u) return sign;  // below half the smallest subnormal
    uint32_t exponent = magnitude >> 23;
    uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126 - exponent;  // from 2^-23-scaled mantissa to 2^-24 units
    uint32_t result = mantissa >> shift;
    uint32_t remainder = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u))) ++result;
    return sign | static_cast<uint16_t>(result);
  }
  uint32_t rebased = magnitude - (112u << 23);
  uint32_t result = rebased >> 13;
  uint32_t remainder = rebased & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
  return sign | static_cast<uint16_t>(result);
}

static inline float bf16_to_float(uint16_t value) { return bits_float(static_cast<uint32_t>(value) << 16); }

// Round to nearest even on the dropped 16 bits; NaN stays NaN.
static inline uint16_t float_to_bf16(float value) {
  uint32_t bits = float_bits(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace vecindex::simd
