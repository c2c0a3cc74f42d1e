// Candidate lists of graph walks and scans: (distance, slot) pairs in binary heaps whose
// storage outlives one search, so a reused SearchContext allocates nothing per query.
// push/pop are std::push_heap/std::pop_heap, exactly what std::priority_queue does, so walks
// keep their order (ties included) whichever container they run on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace vecindex {

struct Neighbor {
  float distance;
  uint32_t slot;
  bool operator<(const Neighbor& other) const { return distance < other.distance; }
  bool operator>(const Neighbor& other) const { return distance > other.distance; }
};

// `Below` is a std::priority_queue comparator: std::less puts the farthest on top,
// std::greater the nearest.
template <class Below>
class NeighborHeap {
 public:
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const Neighbor& top() const { return items_.front(); }
  void push(const Neighbor& item) {
    items_.push_back(item);
    std::push_heap(items_.begin(), items_.end(), Below());
  }
  void pop() {
    std::pop_heap(items_.begin(), items_.end(), Below());
    items_.pop_back();
  }
  void clear() { items_.clear(); }  // keeps the storage

 private:
  std::vector<Neighbor> items_;
};

using NearestOnTop = NeighborHeap<std::greater<Neighbor>>;   // a walk's frontier
using FarthestOnTop = NeighborHeap<std::less<Neighbor>>;     // the best found so far

// Empties `best` into `out` (replacing its contents), nearest first.
inline void drain_nearest_first(FarthestOnTop& best, std::vector<Neighbor>& out) {
  out.resize(best.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = best.top();
    best.pop();
  }
}

inline std::vector<Neighbor> drain_nearest_first(FarthestOnTop& best) {
  std::vector<Neighbor> out;
  drain_nearest_first(best, out);
  return out;
}

}  // namespace vecindex
