// The token vectors of every document, one after another, for the exact Chamfer rerank.
//
// Tokens are kept as f32, f16 (IEEE half) or sq8: int8 codes with one f32 scale per token
// (value = code * scale), so sq8 needs no training and a token's error is at most half a step
// of its own largest value / 127. The arena owns its bytes, or views them inside a memory-
// mapped file (read-only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/bytes.h"

namespace vecindex {

enum class TokenDtype : uint32_t { f32 = 0, f16 = 1, sq8 = 2 };

TokenDtype parse_token_dtype(const std::string& name);  // throws InvalidArgument
std::string token_dtype_name(TokenDtype dtype);

class TokenArena {
 public:
  TokenArena(size_t dim, TokenDtype dtype);

  size_t dim() const { return dim_; }
  TokenDtype dtype() const { return dtype_; }
  size_t bytes_per_token() const;
  size_t token_count() const { return token_count_; }
  size_t memory_bytes() const { return owned_.capacity(); }

  // Appends count row-major tokens; returns the index of the first. Throws StateError on a view.
  uint64_t append(const float* tokens, size_t count);
  // Drops tokens from `token_count` on (undoes a failed append).
  void truncate(uint64_t token_count);
  // Writes count tokens starting at `first` as f32 rows into out.
  void decode(uint64_t first, size_t count, float* out) const;

  // The raw bytes of tokens [first, first + count), for saving.
  const uint8_t* raw(uint64_t first) const { return data() + first * bytes_per_token(); }
  // Takes a saved run of `count` tokens: copies it, or views it in place. Checks every value
  // is finite (and every sq8 scale non-negative); throws FormatError.
  void load(const uint8_t* bytes, size_t size, uint64_t count, bool view);

 private:
  const uint8_t* data() const { return view_ ? view_ : owned_.data(); }

  size_t dim_;
  TokenDtype dtype_;
  uint64_t token_count_ = 0;
  std::vector<uint8_t> owned_;
  const uint8_t* view_ = nullptr;
};

}  // namespace vecindex
