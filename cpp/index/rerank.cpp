#include "index/rerank.h"

#include <algorithm>
#include <queue>

#include "storage/bounded_distance.h"

namespace vecindex {

namespace {

// Past the fixed count, rerank_by_spread reads on in windows of half that count while the
// previous window (first: the fixed count's second half) put a row into the top k, and while
// an estimate is within kRerankSpreads error spreads of the k-th exact distance.
//
// Why: on a 1M-row set built from the Debian vectors (bench/scale_data.py), sq4 with
// rerank_factor 2 topped out at recall 0.957 at ef 256. The true neighbours were in the beam,
// but 4-bit estimates ranked them below the 20 re-scored rows: at 20x the density, the gaps
// between neighbours are smaller than the codes' error. Reading on while within 2, 3 or 4
// spreads gave the same recall (0.955 at ef 128 against 0.941; 1 spread: 0.952), so 3 is past
// where more stops paying. The bound alone cost 3-5% on the 50k set at ef 12-20 (its beam
// holds few rows that can still win, but many within 3 spreads); stopping at a window that
// changed nothing kept the same recall there at the old speed, and raised QPS at recall 0.95
// on the 1M set from 10.8k to 16.2k (bound alone: 14.6k).
constexpr float kRerankSpreads = 3.0f;
constexpr size_t kMaxWindow = 64;

bool top_k_holds_any(const Neighbor* top, size_t k, const uint32_t* slots, size_t count) {
  for (size_t r = 0; r < k; ++r)
    for (size_t t = 0; t < count; ++t)
      if (top[r].slot == slots[t]) return true;
  return false;
}

// Re-scores candidates from `head` on, window by window, as described above; `paid` says
// whether the fixed count's last window reached the top k. Entries from head on still hold
// estimates, nearest first; the k best exact distances stay sorted in [0, k) (writes land
// there, reads start at head >= k). Returns how many rows it re-scored.
size_t read_on(std::vector<Neighbor>& candidates, size_t k, size_t head, size_t window, bool paid, float margin,
               const QueryDistance& exact) {
  size_t i = head;
  while (paid && i < candidates.size()) {
    paid = false;
    for (const size_t end = std::min(candidates.size(), i + window); i < end; ++i) {
      if (candidates[i].distance >= candidates[k - 1].distance + margin) return i - head;
      if (i + 2 < candidates.size()) exact.prefetch(candidates[i + 2].slot);
      const Neighbor scored{exact.distance(candidates[i].slot), candidates[i].slot};
      if (!(scored < candidates[k - 1])) continue;
      paid = true;
      size_t j = k - 1;
      for (; j > 0 && scored < candidates[j - 1]; --j) candidates[j] = candidates[j - 1];
      candidates[j] = scored;
    }
  }
  return i - head;
}

size_t rerank_by_spread(std::vector<Neighbor>& candidates, size_t k, size_t rerank_count,
                        const QueryDistance& estimator, const QueryDistance& exact) {
  const size_t head = std::min(candidates.size(), rerank_count);
  const float margin = kRerankSpreads * estimator.error_spread();
  const bool reads_on = margin > 0 && head >= k;
  const size_t window = std::min(kMaxWindow, std::max<size_t>(1, head / 2));  // <= head when reads_on
  uint32_t last_window[kMaxWindow];
  if (reads_on)
    for (size_t i = 0; i < window; ++i) last_window[i] = candidates[head - 1 - i].slot;
  rescore_nearest_first(candidates.data(), head, exact);
  size_t computed = head;
  if (reads_on) {
    const bool paid = top_k_holds_any(candidates.data(), k, last_window, window);
    computed += read_on(candidates, k, head, window, paid, margin, exact);
  }
  candidates.resize(std::min(head, k));
  return computed;
}

}  // namespace

size_t rerank_candidates(std::vector<Neighbor>& candidates, size_t k, size_t rerank_count,
                         const QueryDistance& estimator, const QueryDistance& exact) {
  const auto* bounded = dynamic_cast<const BoundedQueryDistance*>(&estimator);
  if (!bounded) return rerank_by_spread(candidates, k, rerank_count, estimator, exact);
  candidates.resize(std::min(candidates.size(), rerank_count));
  // Order by lower bound so that once one lower bound is out of reach, all later ones are too.
  for (Neighbor& n : candidates) {
    float bound;
    n.distance = bounded->distance_with_bound(n.slot, &bound) - bound;
  }
  std::sort(candidates.begin(), candidates.end());
  std::priority_queue<Neighbor> best;  // max-heap of the k best exact distances so far
  size_t computed = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Neighbor& n = candidates[i];
    if (best.size() == k && n.distance > best.top().distance) break;
    if (i + 2 < candidates.size()) exact.prefetch(candidates[i + 2].slot);
    Neighbor scored{exact.distance(n.slot), n.slot};
    ++computed;
    if (best.size() < k) best.push(scored);
    else if (scored < best.top()) {
      best.pop();
      best.push(scored);
    }
  }
  candidates.clear();
  while (!best.empty()) {
    candidates.push_back(best.top());
    best.pop();
  }
  std::reverse(candidates.begin(), candidates.end());
  return computed;
}

}  // namespace vecindex
