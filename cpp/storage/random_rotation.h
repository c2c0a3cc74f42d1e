// A seeded random orthogonal matrix (Gaussian matrix, then Gram-Schmidt on its rows).
// Rotating spreads a vector's energy evenly over dimensions, which is what makes 1-bit
// sign codes informative regardless of how the original coordinates are scaled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecindex {

// Row-major dim x dim matrix with orthonormal rows; the same seed gives the same matrix.
std::vector<float> random_rotation(size_t dim, uint64_t seed);

// Largest deviation of a row norm from 1 or of neighbouring rows from orthogonal: a cheap
// check that a loaded matrix is still a rotation.
double orthogonality_error(const std::vector<float>& rotation, size_t dim);

}  // namespace vecindex
