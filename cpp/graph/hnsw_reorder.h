// Slot orders that put graph neighbours near each other in memory. A search reads the
// neighbour lists and vectors of the nodes it visits; when a node's neighbours sit in nearby
// slots, those reads share cache lines, pages and TLB entries. The index applies an order
// with HnswGraph::permute and permutes its stores alike (index_reorder.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/hnsw_graph.h"

namespace vecindex {

enum class ReorderMethod {
  bfs,  // breadth-first from the entry point over level-0 links, in list (nearest-first) order
  rcm,  // reverse Cuthill-McKee: breadth-first from a least-linked node, fewest links first, reversed
};

ReorderMethod parse_reorder_method(const std::string& name);  // throws InvalidArgument
std::string reorder_method_name(ReorderMethod method);

// order[new_slot] = old_slot over slots [0, count): the graph's nodes first, in the method's
// order (each unreached component after the previous one, started from its lowest slot),
// then the slots outside the graph in their current order. Deterministic: it depends only on
// the graph's links.
std::vector<uint32_t> locality_order(const HnswGraph& graph, size_t count, ReorderMethod method);

}  // namespace vecindex
