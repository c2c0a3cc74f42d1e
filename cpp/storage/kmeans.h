// Lloyd's k-means for small dimensions (PQ sub-spaces), and a tiny seeded RNG whose output
// is the same on every platform (std:: distributions are implementation-defined).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecindex {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound).
  uint64_t below(uint64_t bound) { return next() % bound; }
  // Uniform in (0, 1).
  double unit() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

// Clusters `count` points of `dim` floats (row-major) into `k` centroids (row-major k x dim).
// Starts from k distinct random points; an emptied cluster is re-seeded by splitting the
// largest one. Requires count >= k.
std::vector<float> kmeans(const float* points, size_t count, size_t dim, size_t k, size_t iterations,
                          uint64_t seed);

// Dimension-major copy (dim rows of k values) and squared norms of row-major centroids: the
// layout simd nearest_centroid kernels take.
void transpose_centroids(const float* centroids, size_t k, size_t dim, float* by_dim, float* norms);

// Index of the nearest centroid (squared L2) for one point; plain reference loop.
size_t nearest_centroid(const float* point, const float* centroids, size_t k, size_t dim);

}  // namespace vecindex
