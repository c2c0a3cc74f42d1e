#include "graph/filtered_search.h"

#include <algorithm>
#include <limits>

namespace vecindex {
namespace {

// Two-hop neighbour lists requested at once: enough for the few a sparse filter needs
// (about 5 at 10% selectivity), few enough not to flood the cache's miss buffers.
constexpr size_t kListsAhead = 8;

bool accepted(const uint64_t* accept, uint32_t slot) { return (accept[slot >> 6] >> (slot & 63)) & 1; }

}  // namespace

FilteredSearchResult filtered_graph_search(const HnswGraph& graph, const QueryDistance& query,
                                           const std::vector<uint32_t>& entries, size_t ef, const uint64_t* accept,
                                           size_t budget, SearchContext& context) {
  FilteredSearchResult result;
  VisitedSet& visited = context.visited;
  NearestOnTop& candidates = context.frontier;
  FarthestOnTop& best = context.best;
  candidates.clear();
  best.clear();
  const float inf = std::numeric_limits<float>::infinity();
  const size_t degree = graph.max_degree(0);
  // Look two hops away until a node has this many matching neighbours to score: enough
  // to keep the beam moving, few enough that a broad filter costs no more than plain HNSW.
  const size_t wanted = std::max<size_t>(degree / 2, 4);
  std::vector<uint32_t>& direct = context.links;
  std::vector<uint32_t>& second = context.second_hop;
  std::vector<uint32_t>& matching = context.matching;
  std::vector<uint32_t>& failing = context.failing;
  std::vector<uint32_t>& expanded = context.expanded;
  std::vector<float>& distances = context.distances;  // degree entries: matching and expanded hold no more
  matching.reserve(degree * 2);
  failing.reserve(degree);
  expanded.reserve(degree);

  for (uint32_t entry : entries) {
    if (!graph.contains(entry) || visited.test_and_set(entry)) continue;
    float d = query.distance(entry);
    ++result.distance_count;
    candidates.push({d, entry});
    if (accepted(accept, entry)) {
      best.push({d, entry});
      if (best.size() > ef) best.pop();
    }
  }
  float bound = best.size() >= ef ? best.top().distance : inf;

  while (!candidates.empty()) {
    Neighbor current = candidates.top();
    if (current.distance > bound) break;
    candidates.pop();
    matching.clear();
    failing.clear();
    size_t count = graph.neighbors(current.slot, 0, direct.data());
    for (size_t i = 0; i < count; ++i) {
      uint32_t next = direct[i];
      if (accepted(accept, next)) {
        if (!visited.test_and_set(next)) matching.push_back(next);
      } else {
        failing.push_back(next);
      }
    }
    // Too few matching neighbours: walk through the failing ones (each at most once). Their
    // lists are requested together first; read one by one, each was a miss of its own.
    expanded.clear();
    if (matching.size() < wanted)
      for (size_t f = 0; f < failing.size() && f < kListsAhead; ++f) graph.prefetch_neighbors(failing[f], 0);
    for (size_t f = 0; f < failing.size() && matching.size() < wanted; ++f) {
      if (visited.test_and_set(failing[f])) continue;
      expanded.push_back(failing[f]);
      size_t hop_count = graph.neighbors(failing[f], 0, second.data());
      for (size_t i = 0; i < hop_count && matching.size() < degree; ++i) {
        uint32_t next = second[i];
        if (accepted(accept, next) && !visited.test_and_set(next)) matching.push_back(next);
      }
    }
    if (matching.size() < wanted && !expanded.empty()) {
      // Few matches around here (a filter anti-correlated with the query, or the edge of a
      // matching region): also keep the failing nodes we walked through as waypoints
      // (never results), so the beam can cross the gap the way plain HNSW would.
      query.distances(expanded.data(), expanded.size(), distances.data());
      result.distance_count += expanded.size();
      for (size_t i = 0; i < expanded.size(); ++i)
        if (distances[i] < bound) candidates.push({distances[i], expanded[i]});
    }
    if (result.distance_count > budget) {
      result.over_budget = true;
      break;
    }
    if (matching.empty()) continue;
    query.distances(matching.data(), matching.size(), distances.data());
    result.distance_count += matching.size();
    for (size_t i = 0; i < matching.size(); ++i) {
      float d = distances[i];
      if (d >= bound) continue;
      candidates.push({d, matching[i]});
      best.push({d, matching[i]});
      if (best.size() > ef) best.pop();
      if (best.size() >= ef) bound = best.top().distance;
    }
    if (result.distance_count > budget) {
      result.over_budget = true;
      break;
    }
  }
  drain_nearest_first(best, context.found);
  return result;
}

}  // namespace vecindex
