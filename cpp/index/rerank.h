// Reranking: re-score the graph walk's best candidates with exact distances on full vectors.
#pragma once

#include <cstddef>
#include <vector>

#include "graph/hnsw_graph.h"
#include "storage/vector_store.h"

namespace vecindex {

// `candidates` holds estimated distances, best first; the first `rerank_count` are re-scored.
// On return `candidates` holds at most k entries with exact distances, best first.
// When `estimator` is a BoundedQueryDistance, candidates are visited by lower bound
// (estimate - bound) and the rest are skipped once that bound cannot beat the current k-th
// exact distance: they would not enter the top k (with the codec's stated confidence), so
// their full vectors are never read. Returns how many exact distances were computed.
size_t rerank_candidates(std::vector<Neighbor>& candidates, size_t k, size_t rerank_count,
                         const QueryDistance& estimator, const QueryDistance& exact);

}  // namespace vecindex
