// Reranking: re-score the graph walk's best candidates with exact distances on full vectors.
#pragma once

#include <cstddef>
#include <vector>

#include "graph/hnsw_graph.h"
#include "storage/vector_store.h"

namespace vecindex {

// Beam width of a walk on codes whose best k * rerank_factor candidates are reranked: ef (at
// least k) plus the k * (rerank_factor - 1) extra candidates the rerank looks at. A walk on
// sq8 codes steers by approximate distances; with only max(ef, k * rerank_factor), seeded
// clustered data (dim 32) lost up to 0.8 points of recall@10 to the f32 walk at ef 20-40, and
// reranking the whole beam did not win any of it back (the loss is in what the walk visits),
// while this margin kept recall at or above f32's at every ef from 10 to 400
// (tests/test_default_index.py).
inline size_t rerank_beam(size_t ef, size_t k, size_t rerank_factor) {
  return (ef > k ? ef : k) + k * (rerank_factor - 1);
}

// `candidates` holds estimated distances, best first; the first `rerank_count` are re-scored,
// and when the estimator has an error_spread() so are later ones whose estimate is within a
// few spreads of the k-th exact distance (the codes cannot order those).
// On return `candidates` holds at most k entries with exact distances, best first.
// When `estimator` is a BoundedQueryDistance, candidates are visited by lower bound
// (estimate - bound) and the rest are skipped once that bound cannot beat the current k-th
// exact distance: they would not enter the top k (with the codec's stated confidence), so
// their full vectors are never read. Returns how many exact distances were computed.
size_t rerank_candidates(std::vector<Neighbor>& candidates, size_t k, size_t rerank_count,
                         const QueryDistance& estimator, const QueryDistance& exact);

}  // namespace vecindex
