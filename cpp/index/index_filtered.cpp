// Filtered search: filter -> exact match bitmap -> per-query plan -> one of three strategies.
#include <algorithm>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "filter/filter_eval.h"
#include "graph/filtered_search.h"
#include "index/index.h"
#include "index/rerank.h"
#include "util/errors.h"

namespace vecindex {
namespace {

// Extra entry points spread over the match set, so a filtered walk can reach matching
// regions the unfiltered descent does not lead to.
constexpr size_t kExtraEntries = 16;

std::vector<uint32_t> spread_sample(const Bitmap& matches, size_t match_count, size_t wanted) {
  std::vector<uint32_t> sample;
  size_t seen = 0, step = std::max<size_t>(1, match_count / wanted);
  matches.for_each([&](uint32_t slot) {
    if (seen++ % step == step / 2 && sample.size() < wanted) sample.push_back(slot);
  });
  return sample;
}

// The k nearest of the matching slots by brute force, in batches so the kernel can prefetch;
// into context.found, nearest first.
void exact_scan(const QueryDistance& query, const std::vector<uint32_t>& slots, size_t k, SearchContext& context) {
  FarthestOnTop& best = context.best;
  best.clear();
  float distances[256];
  for (size_t start = 0; start < slots.size(); start += 256) {
    size_t count = std::min<size_t>(256, slots.size() - start);
    query.distances(slots.data() + start, count, distances);
    for (size_t i = 0; i < count; ++i) {
      if (best.size() < k) best.push({distances[i], slots[start + i]});
      else if (distances[i] < best.top().distance) {
        best.pop();
        best.push({distances[i], slots[start + i]});
      }
    }
  }
  drain_nearest_first(best, context.found);
}

}  // namespace

Bitmap Index::match_bitmap(const FilterExpr& filter) const {
  SlotResolver resolver = [this](int64_t id, uint32_t& slot) {
    auto found = id_to_slot_.find(id);
    if (found == id_to_slot_.end()) return false;
    slot = found->second;
    return true;
  };
  FilterExprPtr resolved = resolve_key_filters(filter);
  Bitmap matches = evaluate_filter(resolved ? *resolved : filter, attributes_, resolver);
  // Attribute rows are written before their vectors go live; only live vectors may match.
  auto& words = matches.mutable_words();
  for (size_t w = 0; w < words.size() && w < live_bits_.size(); ++w)
    words[w] &= __atomic_load_n(&live_bits_[w], __ATOMIC_ACQUIRE);
  return matches;
}

FilterPlan Index::explain(const FilterExpr& filter, const SearchParams& params, FilterStrategy strategy) const {
  params.validate(/*with_rerank_factor=*/false);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  Bitmap matches = match_bitmap(filter);
  return plan_filter(matches.count(), live_count_.load(), params.k, params.ef_or(ef_search_.load()), strategy);
}

void Index::search_filtered(const float* queries, size_t nq, const SearchParams& params,
                            const std::vector<FilterExprPtr>& filters, FilterStrategy strategy, int64_t* out_ids,
                            float* out_distances, const PollFn& poll, std::vector<std::string>* out_keys) const {
  params.validate();
  if (filters.size() != 1 && filters.size() != nq)
    throw InvalidArgument("got " + std::to_string(filters.size()) + " filters for " + std::to_string(nq) +
                          " queries; pass one filter, or one per query");
  for (const auto& filter : filters)
    if (!filter) throw InvalidArgument("a filter is empty");
  check_vectors(queries, nq);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  // Each distinct filter is evaluated once per call, however many queries share it.
  std::unordered_map<const FilterExpr*, size_t> distinct;
  std::vector<Bitmap> bitmaps;
  std::vector<FilterPlan> plans;
  std::vector<std::vector<uint32_t>> slot_lists;  // exact plans: the matches; graph plans: extra entries
  std::vector<size_t> plan_of(filters.size());
  const size_t ef = params.ef_or(ef_search_.load());
  for (size_t i = 0; i < filters.size(); ++i) {
    auto [it, inserted] = distinct.emplace(filters[i].get(), bitmaps.size());
    if (inserted) {
      bitmaps.push_back(match_bitmap(*filters[i]));
      plans.push_back(plan_filter(bitmaps.back().count(), live_count_.load(), params.k, ef, strategy));
      if (plans.back().strategy == FilterStrategy::exact) slot_lists.push_back(bitmaps.back().to_slots());
      else if (plans.back().strategy == FilterStrategy::filtered_graph)
        slot_lists.push_back(spread_sample(bitmaps.back(), plans.back().matches, kExtraEntries));
      else slot_lists.emplace_back();
    }
    plan_of[i] = it->second;
  }
  parallel_for(nq, params.threads, [&](size_t q, size_t) {
    size_t which = plan_of[filters.size() == 1 ? 0 : q];
    search_one_filtered(queries + q * config_.dim, params, bitmaps[which], plans[which], slot_lists[which],
                        out_ids + q * params.k,
                        out_distances + q * params.k);
  }, poll);
  if (out_keys) keys_of_ids(out_ids, nq * params.k, *out_keys);
}

void Index::search_one_filtered(const float* query, const SearchParams& params, const Bitmap& matches,
                                const FilterPlan& plan, const std::vector<uint32_t>& slot_list, int64_t* out_ids,
                                float* out_distances) const {
  auto context = graph_.borrow_context(search_contexts_);
  std::vector<float> prepared(config_.dim);
  prepare_vector(query, prepared.data());
  auto distance = walk_store().query(prepared.data());
  const bool rerank = full_store_ && walks_on_codes();
  const size_t keep = rerank ? params.k * params.rerank_factor : params.k;
  std::vector<Neighbor>& found = context->found;
  found.clear();
  const size_t beam_width = rerank ? rerank_beam(plan.ef, params.k, params.rerank_factor) : std::max(plan.ef, keep);
  bool scan = plan.strategy == FilterStrategy::exact || plan.matches == 0 || graph_.empty();
  if (!scan && plan.strategy == FilterStrategy::post_filter) {
    // A filter the query's neighbourhood lacks (anti-correlated) can send the walk across
    // most of the graph; past the budget a scan of the matches is the cheaper way to finish.
    size_t budget = plan.budget;
    const uint32_t entry = graph_.descend(*distance);
    Beam beam;
    beam.ef = beam_width;
    beam.accept = matches.words().data();
    beam.budget = &budget;
    graph_.beam_search(*distance, &entry, 1, beam, *context);
    if (budget == 0) scan = true;
  } else if (!scan) {
    std::vector<uint32_t> entries = {graph_.descend(*distance)};
    entries.insert(entries.end(), slot_list.begin(), slot_list.end());
    FilteredSearchResult walk = filtered_graph_search(graph_, *distance, entries, beam_width, matches.words().data(),
                                                      plan.budget, *context);
    // Over budget, or starved (the walk ran out of reachable matches before filling its
    // beam, so the matching subgraph is disconnected around this query): scan instead.
    if (walk.over_budget || found.size() < std::min(beam_width, plan.matches)) scan = true;
  }
  if (scan) {
    if (plan.strategy == FilterStrategy::exact) exact_scan(*distance, slot_list, keep, *context);
    else exact_scan(*distance, matches.to_slots(), keep, *context);
  }
  if (rerank) {
    auto exact = full_store_->query(prepared.data());
    rerank_candidates(found, params.k, keep, *distance, *exact);
  }
  write_results(found, params.k, out_ids, out_distances);
}

std::vector<AttributeRow> Index::get_attributes(const int64_t* ids, size_t n) const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  return get_attributes_locked(ids, n);
}

std::vector<AttributeRow> Index::get_attributes_locked(const int64_t* ids, size_t n) const {
  std::vector<int64_t> missing;
  for (size_t i = 0; i < n; ++i)
    if (!id_to_slot_.count(ids[i])) missing.push_back(ids[i]);
  if (!missing.empty()) {
    std::string text;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) text += (i ? ", " : "") + std::to_string(missing[i]);
    throw KeyNotFound("ids not in the index: " + text);
  }
  std::vector<AttributeRow> rows;
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) rows.push_back(attributes_.get_row(id_to_slot_.at(ids[i])));
  return rows;
}

}  // namespace vecindex
