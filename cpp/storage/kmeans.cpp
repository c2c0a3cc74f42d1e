#include "storage/kmeans.h"

#include <algorithm>
#include <limits>

#include "simd/codec_kernels.h"

namespace vecindex {
namespace {

// Centroids are handed to the kernel dimension-major (dim rows of k values) so its lanes run
// over centroids.
void assign(const float* points, size_t count, size_t dim, const std::vector<float>& centroids, size_t k,
            std::vector<uint32_t>& labels) {
  std::vector<float> by_dim(k * dim), norms(k);
  transpose_centroids(centroids.data(), k, dim, by_dim.data(), norms.data());
  const simd::NearestCentroidKernel nearest = simd::active_codec_kernels().nearest_centroid;
  for (size_t i = 0; i < count; ++i) labels[i] = nearest(points + i * dim, by_dim.data(), norms.data(), dim, k);
}

}  // namespace

void transpose_centroids(const float* centroids, size_t k, size_t dim, float* by_dim, float* norms) {
  for (size_t c = 0; c < k; ++c) {
    float norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      by_dim[d * k + c] = centroids[c * dim + d];
      norm += centroids[c * dim + d] * centroids[c * dim + d];
    }
    norms[c] = norm;
  }
}

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

  std::vector<uint32_t> labels(count);
  std::vector<double> sums(k * dim);
  std::vector<size_t> sizes(k);
  for (size_t iteration = 0; iteration < iterations; ++iteration) {
    assign(points, count, dim, centroids, k, labels);

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
