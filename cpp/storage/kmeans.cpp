#include "storage/kmeans.h"

#include <algorithm>
#include <limits>

namespace vecindex {
namespace {

// Centroids stored dimension-major (dim rows of k values) so the distance loop runs over
// contiguous centroids and vectorises at the baseline ISA.
void assign(const float* points, size_t count, size_t dim, const std::vector<float>& transposed, size_t k,
            std::vector<uint32_t>& labels) {
  std::vector<float> distance(k);
  for (size_t i = 0; i < count; ++i) {
    const float* point = points + i * dim;
    std::fill(distance.begin(), distance.end(), 0.0f);
    for (size_t d = 0; d < dim; ++d) {
      const float value = point[d];
      const float* column = transposed.data() + d * k;
      for (size_t c = 0; c < k; ++c) {
        float diff = value - column[c];
        distance[c] += diff * diff;
      }
    }
    labels[i] = static_cast<uint32_t>(std::min_element(distance.begin(), distance.end()) - distance.begin());
  }
}

}  // namespace

size_t nearest_centroid(const float* point, const float* centroids, size_t k, size_t dim) {
  size_t best = 0;
  float best_distance = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < k; ++c) {
    float distance = 0;
    for (size_t d = 0; d < dim; ++d) {
      float diff = point[d] - centroids[c * dim + d];
      distance += diff * diff;
    }
    if (distance < best_distance) {
      best_distance = distance;
      best = c;
    }
  }
  return best;
}

std::vector<float> kmeans(const float* points, size_t count, size_t dim, size_t k, size_t iterations,
                          uint64_t seed) {
  SplitMix64 rng(seed);
  // Partial Fisher-Yates: the first k entries become k distinct random points.
  std::vector<uint32_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = static_cast<uint32_t>(i);
  for (size_t i = 0; i < k; ++i) std::swap(order[i], order[i + rng.below(count - i)]);
  std::vector<float> centroids(k * dim);
  for (size_t c = 0; c < k; ++c)
    std::copy(points + order[c] * dim, points + (order[c] + 1) * dim, centroids.begin() + c * dim);

  std::vector<float> transposed(k * dim);
  std::vector<uint32_t> labels(count);
  std::vector<double> sums(k * dim);
  std::vector<size_t> sizes(k);
  for (size_t iteration = 0; iteration < iterations; ++iteration) {
    for (size_t c = 0; c < k; ++c)
      for (size_t d = 0; d < dim; ++d) transposed[d * k + c] = centroids[c * dim + d];
    assign(points, count, dim, transposed, k, labels);

    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(sizes.begin(), sizes.end(), 0);
    for (size_t i = 0; i < count; ++i) {
      ++sizes[labels[i]];
      for (size_t d = 0; d < dim; ++d) sums[labels[i] * dim + d] += points[i * dim + d];
    }
    for (size_t c = 0; c < k; ++c)
      if (sizes[c] > 0)
        for (size_t d = 0; d < dim; ++d) centroids[c * dim + d] = static_cast<float>(sums[c * dim + d] / sizes[c]);
    // Re-seed empty clusters next to the largest one, nudged apart so they split it.
    for (size_t c = 0; c < k; ++c) {
      if (sizes[c] > 0) continue;
      size_t largest = static_cast<size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
      for (size_t d = 0; d < dim; ++d) {
        float value = centroids[largest * dim + d];
        float nudge = (rng.unit() - 0.5) * 1e-3f * (std::abs(value) + 1e-3f);
        centroids[c * dim + d] = value + nudge;
        centroids[largest * dim + d] = value - nudge;
      }
      sizes[c] = sizes[largest] / 2;
      sizes[largest] -= sizes[c];
    }
  }
  return centroids;
}

}  // namespace vecindex
