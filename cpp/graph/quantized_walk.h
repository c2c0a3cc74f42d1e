// The quantized graph's search (graph_codes="rabitq"): the upper levels are descended as usual
// on exact distances; level 0 is walked on the neighbour code blocks
// (storage/neighbor_code_blocks.h). Each expanded node's block yields estimates and error
// bounds for all of its neighbours at once. A neighbour is queued by its lower bound
// (estimate - bound) only if that can beat the beam's current worst; a queued node gets its
// exact distance when it is popped, if its lower bound still beats the worst by then (the
// worst only improves, so most queued nodes are never scored exactly). Pops come four at a
// time, scored in one batch so their rows stream in together. Only exact distances
// enter the beam, so the distances returned are exact with no separate rerank, and every node
// whose exact distance beats the final worst is expanded (with the bound's confidence), as in
// the plain walk.
//
// A neighbour skipped on its bound is marked visited: its estimate does not depend on the
// node it was reached from (one global centroid), and the worst only improves, so a later
// hop could not admit it either.
//
// A node whose block is not built yet (an add in flight links it before the index rebuilds
// blocks at the add's end) is expanded from the graph's own level-0 list on exact distances.
#pragma once

#include <cstdint>

#include "graph/hnsw_graph.h"
#include "storage/neighbor_code_blocks.h"

namespace vecindex {

struct QuantizedWalkStats {
  size_t estimated = 0;  // neighbours scored from codes
  size_t exact = 0;      // exact distances computed
};

// context.found receives up to `ef` nodes accepted by `accept` (nullptr: all), nearest first,
// with exact distances.
void quantized_search(const HnswGraph& graph, const NeighborCodeBlocks& blocks, const NeighborCodeQuery& estimates,
                      const QueryDistance& exact, size_t ef, const uint64_t* accept, SearchContext& context,
                      QuantizedWalkStats* stats = nullptr);

}  // namespace vecindex
