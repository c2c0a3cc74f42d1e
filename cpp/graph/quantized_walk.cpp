#include "graph/quantized_walk.h"

#include <limits>
#include <vector>

namespace vecindex {
namespace {

bool accepted(const uint64_t* accept, uint32_t slot) {
  return !accept || ((__atomic_load_n(&accept[slot >> 6], __ATOMIC_ACQUIRE) >> (slot & 63)) & 1);
}

// Per-thread scratch for the estimates: a block holds up to max_degree neighbours.
struct EstimateScratch {
  std::vector<float> estimates, bounds;
  void fit(size_t entries) {
    if (estimates.size() < entries) estimates.resize(entries), bounds.resize(entries);
  }
};

constexpr size_t kPopBatch = 4;

}  // namespace

void quantized_search(const HnswGraph& graph, const NeighborCodeBlocks& blocks, const NeighborCodeQuery& estimates,
                      const QueryDistance& exact, size_t ef, const uint64_t* accept, SearchContext& context,
                      QuantizedWalkStats* stats) {
  context.found.clear();
  if (graph.empty()) return;
  thread_local EstimateScratch scratch;
  scratch.fit(blocks.batches() * NeighborCodeBlocks::kBatch);
  VisitedSet& visited = context.visited;
  NearestOnTop& frontier = context.frontier;  // keyed by lower bound: estimate - bound, or exact
  FarthestOnTop& best = context.best;        // exact distances only
  frontier.clear();
  best.clear();

  const uint32_t entry = graph.descend(exact);
  visited.test_and_set(entry);
  frontier.push({-std::numeric_limits<float>::infinity(), entry});
  float worst = std::numeric_limits<float>::infinity();

  uint32_t* ids = context.links.data();
  float* distances = context.distances.data();
  float* estimate = scratch.estimates.data();
  float* bound = scratch.bounds.data();
  size_t estimated = 0, computed = 0;
  uint32_t popped[kPopBatch];
  float popped_distances[kPopBatch];
  while (true) {
    // Up to kPopBatch candidates whose lower bound still beats the worst, scored together so
    // their rows stream in at once (one cold row at a time left the walk waiting on memory).
    size_t count = 0;
    while (count < kPopBatch && !frontier.empty() && frontier.top().distance < worst) {
      popped[count++] = frontier.top().slot;
      frontier.pop();
    }
    if (count == 0) break;
    for (size_t p = 0; p < count; ++p) blocks.prefetch(popped[p]);
    exact.distances(popped, count, popped_distances);
    computed += count;
    for (size_t p = 0; p < count; ++p) {
      const float d = popped_distances[p];
      if (d >= worst || !accepted(accept, popped[p])) continue;
      best.push({d, popped[p]});
      if (best.size() > ef) best.pop();
      if (best.size() >= ef) worst = best.top().distance;
    }
    for (size_t p = 0; p < count; ++p) {
      const uint32_t node = popped[p];
      // Neither kept nor expanded past the worst, as a plain walk would not have queued it.
      if (popped_distances[p] >= worst) continue;
      if (blocks.built(node)) {
        const size_t degree = blocks.count(node);
        const uint32_t* block_ids = blocks.ids(node);
        estimates.estimate(node, estimate, bound);
        estimated += degree;
        for (size_t i = 0; i < degree; ++i) {
          const uint32_t next = block_ids[i];
          if (visited.test_and_set(next)) continue;
          const float lower = estimate[i] - bound[i];
          if (lower < worst) frontier.push({lower, next});
        }
      } else {
        const size_t degree = graph.neighbors(node, 0, ids);
        uint32_t* fresh = context.fresh.data();
        const size_t fresh_count = visited.mark_fresh(ids, degree, fresh);
        exact.distances(fresh, fresh_count, distances);
        computed += fresh_count;
        for (size_t i = 0; i < fresh_count; ++i)
          if (distances[i] < worst) frontier.push({distances[i], fresh[i]});
      }
    }
  }
  drain_nearest_first(best, context.found);
  if (stats) {
    stats->estimated += estimated;
    stats->exact += computed;
  }
}

}  // namespace vecindex
