#include "graph/hnsw_reorder.h"

#include <algorithm>
#include <numeric>

#include "util/errors.h"

namespace vecindex {
namespace {

// Breadth-first over level 0 from each start in turn (skipping starts already reached).
// `sort_fresh` may reorder the newly reached neighbours of one node before they are queued.
template <typename SortFresh>
void breadth_first(const HnswGraph& graph, size_t count, const std::vector<uint32_t>& starts,
                   std::vector<uint32_t>& order, SortFresh&& sort_fresh) {
  std::vector<uint8_t> reached(count, 0);
  std::vector<uint32_t> list(graph.max_degree0()), fresh;
  fresh.reserve(graph.max_degree0());
  for (uint32_t start : starts) {
    if (reached[start]) continue;
    reached[start] = 1;
    size_t head = order.size();
    order.push_back(start);
    while (head < order.size()) {
      const size_t degree = graph.neighbors(order[head++], 0, list.data());
      fresh.clear();
      for (size_t i = 0; i < degree; ++i) {
        const uint32_t next = list[i];
        if (next < count && !reached[next] && graph.contains(next)) {
          reached[next] = 1;
          fresh.push_back(next);
        }
      }
      sort_fresh(fresh);
      order.insert(order.end(), fresh.begin(), fresh.end());
    }
  }
}

}  // namespace

ReorderMethod parse_reorder_method(const std::string& name) {
  if (name == "bfs") return ReorderMethod::bfs;
  if (name == "rcm") return ReorderMethod::rcm;
  throw InvalidArgument("reorder method must be 'bfs' or 'rcm', got '" + name + "'");
}

std::string reorder_method_name(ReorderMethod method) { return method == ReorderMethod::bfs ? "bfs" : "rcm"; }

std::vector<uint32_t> locality_order(const HnswGraph& graph, size_t count, ReorderMethod method) {
  std::vector<uint32_t> nodes;
  for (size_t slot = 0; slot < count; ++slot)
    if (graph.contains(uint32_t(slot))) nodes.push_back(uint32_t(slot));
  std::vector<uint32_t> order;
  order.reserve(count);
  if (method == ReorderMethod::bfs) {
    std::vector<uint32_t> starts;
    if (!graph.empty() && graph.entry_point() < count) starts.push_back(graph.entry_point());
    starts.insert(starts.end(), nodes.begin(), nodes.end());
    breadth_first(graph, count, starts, order, [](std::vector<uint32_t>&) {});
  } else {
    std::vector<uint32_t> degree(count, 0), list(graph.max_degree0());
    for (uint32_t node : nodes) degree[node] = uint32_t(graph.neighbors(node, 0, list.data()));
    // Each component starts from its least-linked node (lowest slot on ties): Cuthill-McKee's
    // cheap stand-in for a peripheral node.
    std::vector<uint32_t> starts = nodes;
    std::stable_sort(starts.begin(), starts.end(), [&](uint32_t a, uint32_t b) { return degree[a] < degree[b]; });
    breadth_first(graph, count, starts, order, [&](std::vector<uint32_t>& fresh) {
      std::stable_sort(fresh.begin(), fresh.end(), [&](uint32_t a, uint32_t b) { return degree[a] < degree[b]; });
    });
    std::reverse(order.begin(), order.end());
  }
  for (size_t slot = 0; slot < count; ++slot)
    if (!graph.contains(uint32_t(slot))) order.push_back(uint32_t(slot));
  return order;
}

// Moves every node's lists and level to its new slot and renames the slots they hold. Runs
// alone (the index holds its structure lock exclusively), so plain reads and writes suffice.
void HnswGraph::permute(const SlotPermutation& permutation) {
  if (level0_view_) throw StateError("a graph viewed in a mapped file cannot be renumbered");
  const size_t count = permutation.size();
  if (count > capacity_) throw InvalidArgument("cannot renumber more slots than the graph holds");
  const size_t row_words = 1 + M0_;
  uint32_t* level0 = reinterpret_cast<uint32_t*>(level0_.data());
  permutation.apply_rows(level0_.data(), row_words * sizeof(uint32_t));
  permutation.apply_to(levels_);
  permutation.apply([&](uint32_t a, uint32_t b) { upper_[a].swap(upper_[b]); });
  for (size_t slot = 0; slot < count; ++slot) {
    if (levels_[slot] < 0) continue;
    uint32_t* row = level0 + slot * row_words;
    for (size_t i = 0; i < std::min<size_t>(row[0], M0_); ++i) row[1 + i] = permutation.rename(row[1 + i]);
    for (int level = 1; level <= levels_[slot]; ++level) {
      uint32_t* upper = links(uint32_t(slot), level);
      for (size_t i = 0; i < std::min<size_t>(upper[0], M_); ++i) upper[1 + i] = permutation.rename(upper[1 + i]);
    }
  }
  if (!empty()) {
    const uint64_t entry = entry_.load();
    entry_.store(pack_entry(permutation.rename(uint32_t(entry >> 8)), int(entry & 0xFF)));
  }
}

}  // namespace vecindex
