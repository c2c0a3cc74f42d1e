// Removing nodes for good: each surviving node that linked to a removed one is re-linked
// from its surviving neighbours plus the removed neighbours' own links (two-hop repair), then
// trimmed with the usual diversity heuristic. Removed nodes leave the graph entirely.
#include <algorithm>

#include "graph/hnsw_graph.h"
#include "util/errors.h"
#include "util/parallel.h"

namespace vecindex {

void HnswGraph::remove_nodes(const std::vector<uint8_t>& removed, size_t count, const VectorStore& store,
                             size_t threads) {
  auto is_removed = [&](uint32_t slot) { return slot < removed.size() && removed[slot]; };
  parallel_for(count, threads, [&](size_t item, size_t) {
    const uint32_t slot = uint32_t(item);
    if (levels_[slot] < 0 || is_removed(slot)) return;
    std::vector<uint32_t> buffer(M0_ + 1), hop(M0_ + 1);
    std::vector<Neighbor> candidates;
    for (int level = 0; level <= levels_[slot]; ++level) {
      size_t degree = neighbors(slot, level, buffer.data());
      bool touched = false;
      for (size_t i = 0; i < degree; ++i) touched |= is_removed(buffer[i]);
      if (!touched) continue;
      candidates.clear();
      auto consider = [&](uint32_t other) {
        if (other == slot || is_removed(other) || levels_[other] < level) return;
        for (const Neighbor& seen : candidates)
          if (seen.slot == other) return;
        candidates.push_back({store.build_distance(slot, other), other});
      };
      for (size_t i = 0; i < degree; ++i) {
        if (!is_removed(buffer[i])) {
          consider(buffer[i]);
          continue;
        }
        // Removed nodes' lists are never rewritten during compaction, so reading them is safe.
        size_t hops = neighbors(buffer[i], level, hop.data());
        for (size_t j = 0; j < hops; ++j) consider(hop[j]);
      }
      std::sort(candidates.begin(), candidates.end());
      select_neighbors(candidates, max_degree(level), store);
      std::vector<uint32_t> ids(candidates.size());
      for (size_t i = 0; i < candidates.size(); ++i) ids[i] = candidates[i].slot;
      std::lock_guard<std::mutex> lock(node_lock(slot));
      write_links(slot, level, ids.data(), ids.size());
    }
  });

  // Choose a surviving entry point on the highest level that still has a node.
  uint32_t best = kNone;
  int best_level = -1;
  for (size_t slot = 0; slot < count; ++slot) {
    if (levels_[slot] < 0 || is_removed(uint32_t(slot))) continue;
    if (levels_[slot] > best_level) {
      best_level = levels_[slot];
      best = uint32_t(slot);
    }
  }
  for (size_t slot = 0; slot < count; ++slot) {
    if (!is_removed(uint32_t(slot)) || levels_[slot] < 0) continue;
    uint32_t zero = 0;
    write_links(uint32_t(slot), 0, &zero, 0);
    upper_[slot].reset();
    levels_[slot] = -1;
  }
  entry_.store(best == kNone ? kEmptyEntry : pack_entry(best, best_level));
}

}  // namespace vecindex
