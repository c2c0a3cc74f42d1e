// MultiVectorIndex: late-interaction (ColBERT-style) retrieval. Each document is a set of
// token vectors; relevance is Chamfer similarity (for each query token the best dot product
// with any document token, summed over query tokens).
//
// It composes an ordinary Index over the documents' MUVERA encodings (inner product) with a
// token arena: a search encodes the query, takes the `candidates` best documents from the
// Index (filters, threads and dtypes as for any Index) and reranks them by exact Chamfer
// similarity with the SIMD kernel.
//
// Thread safety: search(), get() and the encoders may run from many threads at once; add()
// and remove() take the index exclusively while they change it.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "filter/attribute_batch.h"
#include "filter/filter_expr.h"
#include "index/index.h"
#include "io/mapped_file.h"
#include "multivector/fde.h"
#include "multivector/token_arena.h"

namespace vecindex {

struct MultiVectorConfig {
  FdeConfig fde;                  // fde.dim is the token dim
  TokenDtype token_dtype = TokenDtype::f16;
  IndexConfig graph;              // dim and metric are set from the encoding

  void validate() const;  // throws InvalidArgument
};

struct MultiVectorSearchParams {
  size_t k = 10;
  size_t candidates = 100;  // documents reranked per query (at least k)
  size_t ef = 0;            // graph beam; at least `candidates` is used
  size_t threads = 1;
};

// A batch of token sets: set i is rows [offsets[i], offsets[i + 1]) of `tokens`.
struct TokenSets {
  const float* tokens = nullptr;
  const int64_t* offsets = nullptr;  // count + 1 entries
  size_t count = 0;
  size_t rows() const { return count ? size_t(offsets[count]) : 0; }
};

class MultiVectorIndex {
 public:
  explicit MultiVectorIndex(const MultiVectorConfig& config);

  const MultiVectorConfig& config() const { return config_; }
  size_t dim() const { return config_.fde.dim; }
  size_t size() const;
  bool contains(int64_t id) const;
  std::vector<int64_t> ids() const;
  const Index& graph() const { return *graph_; }
  size_t token_count() const;  // tokens held, deleted documents' included until saved

  // Checks every set (offsets ordered, at least one token, finite values that fit the token
  // dtype); errors name the set ("document 3 has no tokens"). `what` is "document" or "query".
  void check_sets(const TokenSets& sets, const char* what) const;

  // Adds documents; ids may be null (auto ids as for Index). Returns the ids. All checks run
  // before anything changes, and a failure leaves the index as it was.
  std::vector<int64_t> add(const TokenSets& documents, const int64_t* ids, size_t threads,
                           const AttributeBatch* attributes = nullptr);

  // nq x k ids and exact Chamfer scores, best first; short rows padded with -1 / -inf.
  // `filters` is empty (no filter), one expression for all queries, or one per query.
  void search(const TokenSets& queries, const MultiVectorSearchParams& params,
              const std::vector<FilterExprPtr>& filters, int64_t* out_ids, float* out_scores) const;

  // Exact Chamfer top k over every live document, with the SIMD kernel (no encodings).
  void search_exact(const TokenSets& queries, size_t k, size_t threads, int64_t* out_ids, float* out_scores) const;
  // Exact Chamfer top k among given candidates: row q of `candidate_ids` (candidate_count
  // ids, -1 and unknown ids skipped) for query q.
  void rerank_candidates(const TokenSets& queries, const int64_t* candidate_ids, size_t candidate_count, size_t k,
                         size_t threads, int64_t* out_ids, float* out_scores) const;

  // The token vectors of one document (count x dim). Throws KeyNotFound.
  std::vector<float> get(int64_t id) const;
  // Tombstones documents. Throws KeyNotFound listing unknown ids, changing nothing.
  void remove(const int64_t* ids, size_t n);

  // The encodings (count x output_dim), as the index stores and searches them.
  void encode_documents(const TokenSets& documents, size_t threads, float* out) const;
  void encode_queries(const TokenSets& queries, size_t threads, float* out) const;
  size_t encoding_dim() const { return encoder_.output_dim(); }

  // Same container format as Index (multivector_io.cpp). mmap=true views the tokens in the
  // mapped file; the index is then read-only.
  std::vector<uint8_t> to_bytes() const;
  static std::unique_ptr<MultiVectorIndex> from_bytes(const uint8_t* data, size_t size);
  void save(const std::string& path) const;
  static std::unique_ptr<MultiVectorIndex> load(const std::string& path, bool mmap);
  bool read_only() const { return mapping_ != nullptr; }
  size_t memory_tokens() const;
  size_t memory_documents() const;
  size_t mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }

 private:
  struct DocumentSpan {
    uint64_t first_token;
    uint32_t token_count;
  };
  static std::unique_ptr<MultiVectorIndex> from_image(const uint8_t* data, size_t size, bool view);
  void require_writable(const char* operation) const;
  void encode_sets(const TokenSets& sets, bool documents, size_t threads, float* out) const;
  // Exact Chamfer rerank of one query's candidates; caller holds mutex_ (shared).
  void rerank(const float* query, size_t query_rows, const int64_t* candidates, size_t candidate_count, size_t k,
              std::vector<float>& scratch, int64_t* out_ids, float* out_scores) const;

  MultiVectorConfig config_;
  FdeEncoder encoder_;
  std::unique_ptr<Index> graph_;
  TokenArena arena_;
  std::unordered_map<int64_t, DocumentSpan> documents_;
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const io::MappedFile> mapping_;
};

}  // namespace vecindex
