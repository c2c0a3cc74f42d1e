// Level-0 beam search that only scores nodes passing a filter (the ACORN-1 / Weaviate /
// Lucene family). Non-matching neighbours are never scored; when a node has too few
// matching neighbours, the search looks one hop further through the non-matching ones,
// which keeps the filtered subgraph connected even when the filter cuts most links.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/hnsw_graph.h"

namespace vecindex {

// The walk's nodes are in the context's `found`: up to ef matching nodes, nearest first.
struct FilteredSearchResult {
  size_t distance_count = 0;        // distances computed (the cost the budget bounds)
  bool over_budget = false;         // stopped early: the caller should fall back to a scan
};

// `accept` must have a bit per graph slot. `entries` seed the search (non-matching
// entries are expanded but never returned). Stops with over_budget once more than
// `budget` distances were computed.
FilteredSearchResult filtered_graph_search(const HnswGraph& graph, const QueryDistance& query,
                                           const std::vector<uint32_t>& entries, size_t ef, const uint64_t* accept,
                                           size_t budget, SearchContext& context);

}  // namespace vecindex
