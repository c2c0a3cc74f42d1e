#include "index/rerank.h"

#include <algorithm>
#include <queue>

#include "storage/bounded_distance.h"

namespace vecindex {

size_t rerank_candidates(std::vector<Neighbor>& candidates, size_t k, size_t rerank_count,
                         const QueryDistance& estimator, const QueryDistance& exact) {
  candidates.resize(std::min(candidates.size(), rerank_count));
  const auto* bounded = dynamic_cast<const BoundedQueryDistance*>(&estimator);
  if (!bounded) {
    rescore_nearest_first(candidates, exact);
    const size_t computed = candidates.size();
    if (candidates.size() > k) candidates.resize(k);
    return computed;
  }
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
