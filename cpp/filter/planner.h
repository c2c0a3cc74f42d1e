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
  // Auto plans compare two estimated costs, in units of one scanned row:
  //   exact scan:        matches
  //   post-filter walk:  walk_scale * beam^beam_exponent / selectivity
  // Fitted on measurements, 1 thread, recall >= 0.95 throughout:
  // - the walk's time grew ~1.58x per doubling of the beam (500k x 64 synthetic set, 10%
  //   allow-list, beams 20-160), hence the exponent 0.66;
  // - one beam slot^0.66 per unit of 1/selectivity cost ~110 scanned rows there and ~157 on
  //   the Debian 50k x 384 set (f32), hence 130;
  // - checks: Debian 10% (5,000 matches) scan ~ walk, measured equal; 500k at 3% (15,000)
  //   scan 3x faster; 500k at 10% (50,000) walk 2-6x faster for beams 20-160.
  double walk_scale = 130.0;
  double beam_exponent = 0.66;
  // Below this many matches a scan is always taken (a walk's fixed costs dominate).
  size_t exact_min_matches = 64;
};

FilterPlan plan_filter(size_t matches, size_t live, size_t k, size_t ef, FilterStrategy forced,
                       const PlannerThresholds& thresholds = PlannerThresholds());

}  // namespace vecindex
