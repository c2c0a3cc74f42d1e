#include "multivector/multivector_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <unordered_set>

#include "simd/chamfer_kernels.h"
#include "util/errors.h"
#include "util/parallel.h"

namespace vecindex {
namespace {

// The largest finite IEEE half: larger tokens would be stored as infinity.
constexpr float kLargestHalf = 65504.0f;
constexpr size_t kMaxCandidates = 100000;

IndexConfig graph_config(const MultiVectorConfig& config) {
  IndexConfig graph = config.graph;
  graph.dim = config.fde.output_dim();
  graph.metric = Metric::ip;  // encodings approximate Chamfer similarity by inner product
  graph.rerank = false;       // the exact rerank is on the tokens
  return graph;
}

std::string list_ids(const std::vector<int64_t>& ids) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < 10; ++i) text += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > 10) text += ", ... (" + std::to_string(ids.size()) + " in all)";
  return text;
}

}  // namespace

void MultiVectorConfig::validate() const {
  fde.validate();
  graph_config(*this).validate();
}

MultiVectorIndex::MultiVectorIndex(const MultiVectorConfig& config)
    : config_(config), encoder_(config.fde), arena_(config.fde.dim, config.token_dtype) {
  config_.graph = graph_config(config_);
  graph_ = std::make_unique<Index>(config_.graph);
}

size_t MultiVectorIndex::size() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return documents_.size();
}

bool MultiVectorIndex::contains(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return documents_.count(id) != 0;
}

std::vector<int64_t> MultiVectorIndex::ids() const { return graph_->ids(); }

size_t MultiVectorIndex::token_count() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return arena_.token_count();
}

size_t MultiVectorIndex::memory_tokens() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return arena_.memory_bytes();
}

size_t MultiVectorIndex::memory_documents() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return documents_.size() * (sizeof(int64_t) + sizeof(DocumentSpan) + 2 * sizeof(void*));
}

void MultiVectorIndex::check_sets(const TokenSets& sets, const char* what) const {
  const size_t dim = config_.fde.dim;
  if (sets.offsets[0] != 0) throw InvalidArgument("token offsets must start at 0");
  const float limit = config_.token_dtype == TokenDtype::f16 ? kLargestHalf : std::numeric_limits<float>::max();
  for (size_t i = 0; i < sets.count; ++i) {
    const int64_t begin = sets.offsets[i], end = sets.offsets[i + 1];
    if (end < begin) throw InvalidArgument("token offsets must not decrease (" + std::string(what) + " " + std::to_string(i) + ")");
    if (end == begin) throw InvalidArgument(std::string(what) + " " + std::to_string(i) + " has no tokens");
    if (end - begin > int64_t(std::numeric_limits<uint32_t>::max()))
      throw InvalidArgument(std::string(what) + " " + std::to_string(i) + " has too many tokens");
    const float* values = sets.tokens + size_t(begin) * dim;
    for (size_t v = 0; v < size_t(end - begin) * dim; ++v) {
      if (!std::isfinite(values[v]))
        throw InvalidArgument(std::string(what) + " " + std::to_string(i) + " has a NaN or infinite value");
      if (std::fabs(values[v]) > limit)
        throw InvalidArgument(std::string(what) + " " + std::to_string(i) + " has a value beyond the f16 range (|x| > 65504)");
    }
  }
}

void MultiVectorIndex::encode_sets(const TokenSets& sets, bool documents, size_t threads, float* out) const {
  const size_t width = encoder_.output_dim(), dim = config_.fde.dim;
  parallel_for(sets.count, resolve_threads(threads, sets.count), [&](size_t i, size_t) {
    const float* tokens = sets.tokens + size_t(sets.offsets[i]) * dim;
    const size_t count = size_t(sets.offsets[i + 1] - sets.offsets[i]);
    if (documents) encoder_.encode_document(tokens, count, out + i * width);
    else encoder_.encode_query(tokens, count, out + i * width);
  });
}

void MultiVectorIndex::encode_documents(const TokenSets& documents, size_t threads, float* out) const {
  check_sets(documents, "document");
  encode_sets(documents, true, threads, out);
}

void MultiVectorIndex::encode_queries(const TokenSets& queries, size_t threads, float* out) const {
  check_sets(queries, "query");
  encode_sets(queries, false, threads, out);
}

std::vector<int64_t> MultiVectorIndex::add(const TokenSets& documents, const int64_t* ids, size_t threads,
                                           const AttributeBatch* attributes) {
  require_writable("add");
  check_sets(documents, "document");
  if (documents.count == 0) return {};
  if (ids) {
    std::unordered_set<int64_t> seen;
    for (size_t i = 0; i < documents.count; ++i) {
      if (ids[i] < 0) throw InvalidArgument("ids must be non-negative; document " + std::to_string(i) + " has id " + std::to_string(ids[i]));
      if (!seen.insert(ids[i]).second)
        throw InvalidArgument("id " + std::to_string(ids[i]) + " appears twice in this add (document " + std::to_string(i) + ")");
    }
  }
  std::vector<float> encodings(documents.count * encoder_.output_dim());
  encode_sets(documents, true, threads, encodings.data());

  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (ids) {
    for (size_t i = 0; i < documents.count; ++i)
      if (documents_.count(ids[i]))
        throw InvalidArgument("id " + std::to_string(ids[i]) + " already exists (document " + std::to_string(i) + ")");
  }
  // Tokens first: a document the graph can return always has its tokens.
  const uint64_t tokens_before = arena_.token_count();
  const uint64_t first = arena_.append(documents.tokens, documents.rows());
  std::vector<int64_t> assigned;
  try {
    assigned = graph_->add(encodings.data(), documents.count, ids, false, threads, nullptr, attributes);
  } catch (const InvalidArgument& e) {
    arena_.truncate(tokens_before);
    if (!graph_->is_trained())
      throw InvalidArgument(std::string("the first add() must train the encodings' dtype '") + config_.graph.dtype +
                            "' and needs more documents: " + e.what());
    throw;
  } catch (...) {
    arena_.truncate(tokens_before);
    throw;
  }
  for (size_t i = 0; i < documents.count; ++i) {
    const uint64_t begin = first + uint64_t(documents.offsets[i]);
    documents_[assigned[i]] = DocumentSpan{begin, uint32_t(documents.offsets[i + 1] - documents.offsets[i])};
  }
  return assigned;
}

void MultiVectorIndex::rerank(const float* query, size_t query_rows, const int64_t* candidates, size_t candidate_count,
                              size_t k, std::vector<float>& scratch, int64_t* out_ids, float* out_scores) const {
  const auto chamfer = simd::active_chamfer_kernels().chamfer;
  const size_t dim = config_.fde.dim;
  std::vector<std::pair<float, int64_t>> scored;
  scored.reserve(candidate_count);
  for (size_t c = 0; c < candidate_count; ++c) {
    if (candidates[c] < 0) continue;
    auto found = documents_.find(candidates[c]);
    if (found == documents_.end()) continue;
    const DocumentSpan& span = found->second;
    if (scratch.size() < size_t(span.token_count) * dim) scratch.resize(size_t(span.token_count) * dim);
    arena_.decode(span.first_token, span.token_count, scratch.data());
    scored.emplace_back(chamfer(query, query_rows, scratch.data(), span.token_count, dim), candidates[c]);
  }
  // Best score first; ties by smaller id so results do not depend on the graph's order.
  auto better = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  const size_t kept = std::min(k, scored.size());
  std::partial_sort(scored.begin(), scored.begin() + kept, scored.end(), better);
  for (size_t i = 0; i < k; ++i) {
    out_ids[i] = i < kept ? scored[i].second : -1;
    out_scores[i] = i < kept ? scored[i].first : -std::numeric_limits<float>::infinity();
  }
}

void MultiVectorIndex::search(const TokenSets& queries, const MultiVectorSearchParams& params,
                              const std::vector<FilterExprPtr>& filters, int64_t* out_ids, float* out_scores) const {
  if (params.k < 1) throw InvalidArgument("k must be >= 1");
  if (params.candidates > kMaxCandidates)
    throw InvalidArgument("candidates must be at most " + std::to_string(kMaxCandidates));
  if (!filters.empty() && filters.size() != 1 && filters.size() != queries.count)
    throw InvalidArgument("got " + std::to_string(filters.size()) + " filters for " + std::to_string(queries.count) + " queries");
  check_sets(queries, "query");
  const size_t nq = queries.count;
  if (nq == 0) return;
  const size_t candidates = std::max(params.k, params.candidates);
  std::vector<float> encodings(nq * encoder_.output_dim());
  encode_sets(queries, false, params.threads, encodings.data());

  std::shared_lock<std::shared_mutex> lock(mutex_);
  SearchParams graph_params;
  graph_params.k = candidates;
  graph_params.ef = std::max(params.ef, candidates);
  graph_params.rerank_factor = 1;
  graph_params.threads = params.threads;
  std::vector<int64_t> candidate_ids(nq * candidates);
  std::vector<float> candidate_distances(nq * candidates);
  if (filters.empty())
    graph_->search(encodings.data(), nq, graph_params, candidate_ids.data(), candidate_distances.data());
  else
    graph_->search_filtered(encodings.data(), nq, graph_params, filters, FilterStrategy::automatic, candidate_ids.data(),
                            candidate_distances.data());

  const size_t workers = resolve_threads(params.threads, nq);
  std::vector<std::vector<float>> scratch(workers);
  const size_t dim = config_.fde.dim;
  parallel_for(nq, workers, [&](size_t q, size_t worker) {
    const size_t rows = size_t(queries.offsets[q + 1] - queries.offsets[q]);
    rerank(queries.tokens + size_t(queries.offsets[q]) * dim, rows, candidate_ids.data() + q * candidates, candidates,
           params.k, scratch[worker], out_ids + q * params.k, out_scores + q * params.k);
  });
}

void MultiVectorIndex::search_exact(const TokenSets& queries, size_t k, size_t threads, int64_t* out_ids,
                                    float* out_scores) const {
  if (k < 1) throw InvalidArgument("k must be >= 1");
  check_sets(queries, "query");
  std::shared_lock<std::shared_mutex> lock(mutex_);
  std::vector<int64_t> all;
  all.reserve(documents_.size());
  for (const auto& entry : documents_) all.push_back(entry.first);
  const size_t workers = resolve_threads(threads, queries.count);
  std::vector<std::vector<float>> scratch(workers);
  const size_t dim = config_.fde.dim;
  parallel_for(queries.count, workers, [&](size_t q, size_t worker) {
    const size_t rows = size_t(queries.offsets[q + 1] - queries.offsets[q]);
    rerank(queries.tokens + size_t(queries.offsets[q]) * dim, rows, all.data(), all.size(), k, scratch[worker],
           out_ids + q * k, out_scores + q * k);
  });
}

void MultiVectorIndex::rerank_candidates(const TokenSets& queries, const int64_t* candidate_ids, size_t candidate_count,
                                         size_t k, size_t threads, int64_t* out_ids, float* out_scores) const {
  if (k < 1) throw InvalidArgument("k must be >= 1");
  check_sets(queries, "query");
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const size_t workers = resolve_threads(threads, queries.count);
  std::vector<std::vector<float>> scratch(workers);
  const size_t dim = config_.fde.dim;
  parallel_for(queries.count, workers, [&](size_t q, size_t worker) {
    const size_t rows = size_t(queries.offsets[q + 1] - queries.offsets[q]);
    rerank(queries.tokens + size_t(queries.offsets[q]) * dim, rows, candidate_ids + q * candidate_count,
           candidate_count, k, scratch[worker], out_ids + q * k, out_scores + q * k);
  });
}

std::vector<float> MultiVectorIndex::get(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  auto found = documents_.find(id);
  if (found == documents_.end()) throw KeyNotFound("unknown id: " + std::to_string(id));
  std::vector<float> tokens(size_t(found->second.token_count) * config_.fde.dim);
  arena_.decode(found->second.first_token, found->second.token_count, tokens.data());
  return tokens;
}

void MultiVectorIndex::remove(const int64_t* ids, size_t n) {
  require_writable("delete");
  std::unique_lock<std::shared_mutex> lock(mutex_);
  std::vector<int64_t> unknown;
  for (size_t i = 0; i < n; ++i)
    if (!documents_.count(ids[i])) unknown.push_back(ids[i]);
  if (!unknown.empty()) throw KeyNotFound("unknown ids: " + list_ids(unknown));
  graph_->remove(ids, n);
  for (size_t i = 0; i < n; ++i) documents_.erase(ids[i]);
}

void MultiVectorIndex::require_writable(const char* operation) const {
  if (mapping_)
    throw StateError(std::string(operation) +
                     "() is not allowed: this index is a read-only memory map; load it with mmap=False to modify it");
}

}  // namespace vecindex
