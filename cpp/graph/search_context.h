// What one search needs besides the graph: visited marks, the walk's candidate lists and its
// scratch lists. A pool keeps them between searches, so a query allocates nothing once the
// pool has one context per thread that searches at the same time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <vector>

#include "graph/neighbor_heap.h"
#include "graph/sorted_pool.h"
#include "graph/visited.h"

namespace vecindex {

// An unfiltered walk expands this many of its nearest unexpanded candidates per step and
// scores all their new neighbours in one batch, so the rows of two lists are in flight
// together. Paired A/Bs on the AVX-512 machine, at equal recall: 1.06x on the 50k Debian set
// (ef 10 paired against ef 12 for one at a time), 1.12-1.13x at 1M (default and sq4, ef 128).
// Three gained 3% more at 1M but lost 2% at 50k.
constexpr size_t kListsPerStep = 2;

// A batch search walks this many queries at once on one thread (HnswGraph::search over
// several queries): while one walk scores its batch, the rows the others asked for arrive.
// Only when a walk's rows are at most kInterleavedRowBytes: then the walk waits on memory
// latency, and interleaving paid (paired A/Bs, same results, against one walk at a time with
// the same row prefetch: sq8 at 50k 1.07x and at 1M 1.10x; f16 at 50k, ef 24, 1.12x). A
// 1,536-byte f32 row walk is paced by bandwidth instead: three walks ran 0.91-0.93x at ef 24.
// Two, three and four walks were within 2% of each other for sq8; three was best at 1M.
constexpr size_t kWalksInterleaved = 3;
constexpr size_t kInterleavedRowBytes = 1024;

struct SearchContext {
  VisitedSet visited;
  NearestOnTop frontier;   // nodes still to expand
  FarthestOnTop best;      // the best accepted nodes so far, at most ef of them
  SortedPool pool;         // an unfiltered walk's candidates, in place of the two heaps
  std::vector<Neighbor> found;  // a walk's result, nearest first
  // One neighbour list each (sized to the largest degree): as read, unvisited, their distances.
  std::vector<uint32_t> links, fresh;
  std::vector<float> distances;
  // The filtered walk's lists (filtered_search.cpp).
  std::vector<uint32_t> second_hop, matching, failing, expanded;

  // Ready for a search over `capacity` slots with lists of up to `max_degree` entries.
  void prepare(size_t capacity, size_t max_degree) {
    visited.prepare(capacity);
    frontier.clear();
    best.clear();
    for (auto* list : {&links, &second_hop})
      if (list->size() < max_degree) list->resize(max_degree);
    if (fresh.size() < kListsPerStep * max_degree) fresh.resize(kListsPerStep * max_degree);
    if (distances.size() < kListsPerStep * max_degree) distances.resize(kListsPerStep * max_degree);
  }
};

// Thread-safe: each concurrent search borrows its own context. The graph's capacity only
// grows while no search runs (the index holds its lock exclusively), and every borrow sizes
// the context to the capacity of that moment.
class SearchContextPool {
 public:
  // The context returns to the pool when the handle dies.
  class Handle {
   public:
    Handle(SearchContextPool& pool, std::unique_ptr<SearchContext> context)
        : pool_(pool), context_(std::move(context)) {}
    Handle(Handle&& other) noexcept : pool_(other.pool_), context_(std::move(other.context_)) {}
    ~Handle() {
      if (context_) pool_.give_back(std::move(context_));
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    SearchContext& operator*() { return *context_; }
    SearchContext* operator->() { return context_.get(); }
    SearchContext* get() { return context_.get(); }

   private:
    SearchContextPool& pool_;
    std::unique_ptr<SearchContext> context_;
  };

  Handle borrow(size_t capacity, size_t max_degree) {
    std::unique_ptr<SearchContext> context;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        context = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!context) context = std::make_unique<SearchContext>();
    context->prepare(capacity, max_degree);
    return Handle(*this, std::move(context));
  }

 private:
  void give_back(std::unique_ptr<SearchContext> context) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(context));
  }
  std::mutex mutex_;
  std::vector<std::unique_ptr<SearchContext>> free_;
};

}  // namespace vecindex
