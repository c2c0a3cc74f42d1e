// Chooses how to run one filtered query from the exact match count. The crossovers were
// measured on the Debian MiniLM set (50k x 384, cosine; see bench/filtered.py): an exact
// scan of the matches beats any graph walk below a few thousand matches, a filtered walk
// wins in the middle, and a plain walk with a widened beam wins for broad filters.
#pragma once

#include <cstddef>
#include <string>

namespace vecindex {

enum class FilterStrategy { automatic = 0, exact = 1, filtered_graph = 2, post_filter = 3 };

FilterStrategy parse_filter_strategy(const std::string& name);  // "auto", "exact", "filtered_graph", "post_filter"
std::string filter_strategy_name(FilterStrategy strategy);

struct FilterPlan {
  FilterStrategy strategy = FilterStrategy::exact;
  size_t matches = 0;      // exact number of live rows that pass
  size_t live = 0;         // live rows in the index
  double selectivity = 0;  // matches / live
  size_t ef = 0;           // beam width used by the graph strategies
  size_t budget = 0;       // distance computations before a graph strategy falls back to exact
  std::string reason;
};

struct PlannerThresholds {
  // Measured (bench/filtered.py, random allow-lists, 1 thread): a scan of 5,000 matches ran
  // ~6x faster than the filtered walk, 10,000 ~2x slower, so the crossover is ~7,500.
  size_t exact_max_matches = 7500;       // at most this many matches: scan them
  double exact_max_selectivity = 0.02;   // ... or at most this share of the index
  // From ~30% up, the plain walk that keeps only matching results matched or beat the filtered
  // walk at equal recall (35%: even; 50%, 90% and the anti-correlated filter: 1.5-2.5x); it also
  // beat it at 20% (3.5k vs 1.8k QPS at recall ~0.97).
  double post_filter_min_selectivity = 0.15;
};

FilterPlan plan_filter(size_t matches, size_t live, size_t k, size_t ef, FilterStrategy forced,
                       const PlannerThresholds& thresholds = PlannerThresholds());

}  // namespace vecindex
