#include "storage/random_rotation.h"

#include <algorithm>
#include <cmath>

#include "storage/kmeans.h"

namespace vecindex {

std::vector<float> random_rotation(size_t dim, uint64_t seed) {
  SplitMix64 rng(seed);
  std::vector<double> rows(dim * dim);
  for (size_t i = 0; i < dim * dim; i += 2) {
    // Box-Muller: two independent standard normals per pair of uniforms.
    double radius = std::sqrt(-2.0 * std::log(rng.unit()));
    double angle = 2.0 * M_PI * rng.unit();
    rows[i] = radius * std::cos(angle);
    if (i + 1 < dim * dim) rows[i + 1] = radius * std::sin(angle);
  }
  // Modified Gram-Schmidt, twice per row for numerical orthogonality in f64.
  for (size_t r = 0; r < dim; ++r) {
    double* row = rows.data() + r * dim;
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t p = 0; p < r; ++p) {
        const double* previous = rows.data() + p * dim;
        double projection = 0;
        for (size_t d = 0; d < dim; ++d) projection += row[d] * previous[d];
        for (size_t d = 0; d < dim; ++d) row[d] -= projection * previous[d];
      }
    }
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) norm += row[d] * row[d];
    norm = std::sqrt(norm);
    for (size_t d = 0; d < dim; ++d) row[d] /= norm;
  }
  return std::vector<float>(rows.begin(), rows.end());
}

double orthogonality_error(const std::vector<float>& rotation, size_t dim) {
  // Row norms and neighbouring-row products: O(dim^2), cheap enough to run on every load.
  double worst = 0;
  for (size_t a = 0; a < dim; ++a) {
    size_t b = (a + 1) % dim;
    double norm = 0, cross = 0;
    for (size_t d = 0; d < dim; ++d) {
      norm += static_cast<double>(rotation[a * dim + d]) * rotation[a * dim + d];
      cross += static_cast<double>(rotation[a * dim + d]) * rotation[b * dim + d];
    }
    worst = std::max(worst, std::fabs(norm - 1.0));
    if (b != a) worst = std::max(worst, std::fabs(cross));
  }
  return worst;
}

}  // namespace vecindex
