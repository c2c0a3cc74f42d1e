// A distance estimator that also says how far off it can be, so reranking can skip
// candidates whose best possible exact distance cannot beat the current k-th result.
#pragma once

#include <cstdint>

#include "storage/vector_store.h"

namespace vecindex {

class BoundedQueryDistance : public QueryDistance {
 public:
  // Returns the estimate and writes `bound` such that, with high probability (the codec
  // documents how high), exact distance lies in [estimate - bound, estimate + bound].
  virtual float distance_with_bound(uint32_t slot, float* bound) const = 0;
};

}  // namespace vecindex
