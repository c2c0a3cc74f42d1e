// MUVERA fixed-dimensional encodings (Dhulipala et al., 2024): one vector per set of token
// vectors whose inner product approximates the sets' Chamfer similarity, so an ordinary
// inner-product graph index can find candidates for an exact Chamfer rerank.
//
// Per repetition, k_sim Gaussian hyperplanes split space into 2^k_sim buckets (SimHash). A
// token's sign pattern is read as a Gray code, so buckets with adjacent indices differ in one
// hyperplane. Tokens are optionally projected to d_proj dimensions by a random +-1 matrix;
// a query sums its tokens per bucket, a document averages them, and a document's empty buckets
// take the token whose sign pattern is nearest in Hamming distance. The r_reps blocks are
// concatenated and optionally count-sketched to final_dim. Everything random comes from seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecindex {

struct FdeConfig {
  size_t dim = 0;        // token dimensions
  size_t k_sim = 0;      // hyperplanes per repetition: 2^k_sim buckets
  size_t d_proj = 0;     // inner projection size; 0 keeps the tokens' dim
  size_t r_reps = 0;     // repetitions
  size_t final_dim = 0;  // count-sketch output size; 0 keeps the concatenation
  uint64_t seed = 0;

  void validate() const;  // throws InvalidArgument
  size_t block_dim() const { return d_proj ? d_proj : dim; }
  size_t bucket_count() const { return size_t(1) << k_sim; }
  size_t concatenated_dim() const { return r_reps * bucket_count() * block_dim(); }
  size_t output_dim() const { return final_dim ? final_dim : concatenated_dim(); }
};

class FdeEncoder {
 public:
  explicit FdeEncoder(const FdeConfig& config);  // throws InvalidArgument

  const FdeConfig& config() const { return config_; }
  size_t output_dim() const { return config_.output_dim(); }

  // Encodes one set of `count` row-major tokens into output_dim() floats. count >= 1.
  void encode_query(const float* tokens, size_t count, float* out) const;
  void encode_document(const float* tokens, size_t count, float* out) const;

  // The random parameters, for reference implementations in tests.
  const std::vector<float>& hyperplanes() const { return hyperplanes_; }  // r_reps x k_sim x dim
  const std::vector<float>& projections() const { return projections_; }  // r_reps x d_proj x dim (+-1)
  const std::vector<uint32_t>& final_index() const { return final_index_; }  // concatenated_dim
  const std::vector<float>& final_sign() const { return final_sign_; }       // concatenated_dim (+-1)

 private:
  void encode(const float* tokens, size_t count, bool average, float* out) const;

  FdeConfig config_;
  std::vector<float> hyperplanes_;
  std::vector<float> projections_;
  std::vector<uint32_t> final_index_;
  std::vector<float> final_sign_;
};

// Gray-code helpers: a bucket index's sign pattern, and back.
inline uint32_t gray_code(uint32_t index) { return index ^ (index >> 1); }
uint32_t gray_to_index(uint32_t code);

}  // namespace vecindex
