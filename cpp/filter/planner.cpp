#include "filter/planner.h"

#include <algorithm>
#include <cmath>

#include "util/errors.h"

namespace vecindex {

FilterStrategy parse_filter_strategy(const std::string& name) {
  if (name == "auto") return FilterStrategy::automatic;
  if (name == "exact") return FilterStrategy::exact;
  if (name == "filtered_graph") return FilterStrategy::filtered_graph;
  if (name == "post_filter") return FilterStrategy::post_filter;
  throw InvalidArgument("unknown strategy '" + name + "'; expected auto, exact, filtered_graph or post_filter");
}

std::string filter_strategy_name(FilterStrategy strategy) {
  switch (strategy) {
    case FilterStrategy::automatic: return "auto";
    case FilterStrategy::exact: return "exact";
    case FilterStrategy::filtered_graph: return "filtered_graph";
    case FilterStrategy::post_filter: return "post_filter";
  }
  return "unknown";
}

FilterPlan plan_filter(size_t matches, size_t live, size_t k, size_t ef, FilterStrategy forced,
                       const PlannerThresholds& thresholds) {
  FilterPlan plan;
  plan.matches = matches;
  plan.live = live;
  plan.selectivity = live ? double(matches) / double(live) : 0.0;
  plan.ef = std::max(ef, k);
  // A graph walk that computes more distances than there are matches already costs more
  // than scanning them, so that is where it gives up (total cost stays under ~2x a scan).
  plan.budget = std::max<size_t>(matches, 64);
  const std::string count = std::to_string(matches) + " of " + std::to_string(live) + " rows match";

  if (forced != FilterStrategy::automatic) {
    plan.strategy = forced;
    plan.reason = "forced by strategy=; " + count;
  } else if (matches <= std::max(thresholds.exact_max_matches, k) ||
             plan.selectivity <= thresholds.exact_max_selectivity) {
    plan.strategy = FilterStrategy::exact;
    plan.reason = count + ": few enough to compare the query with every match";
  } else if (plan.selectivity >= thresholds.post_filter_min_selectivity) {
    plan.strategy = FilterStrategy::post_filter;
    plan.reason = count + ": broad filter, ordinary graph walk with the beam widened by 1/selectivity";
  } else {
    plan.strategy = FilterStrategy::filtered_graph;
    plan.reason = count + ": graph walk over matching nodes only (two-hop through non-matching ones), "
                          "falling back to an exact scan past the visit budget";
  }
  if (plan.strategy == FilterStrategy::filtered_graph && plan.selectivity > 0) {
    // The filtered walk loses some paths to the filter; a beam up to 2x wider (measured on
    // clustered data with anti-correlated filters) buys that recall back.
    double widen = std::min(2.0, 1.0 / std::sqrt(plan.selectivity));
    plan.ef = size_t(std::ceil(double(plan.ef) * std::max(1.0, widen)));
  }
  if (plan.strategy == FilterStrategy::post_filter && plan.selectivity > 0) {
    double widened = std::ceil(double(plan.ef) / plan.selectivity);
    plan.ef = std::max(plan.ef, std::min<size_t>(size_t(widened), std::max(thresholds.max_post_filter_ef, plan.ef)));
  }
  return plan;
}

}  // namespace vecindex
