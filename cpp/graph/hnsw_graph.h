// HNSW links only: levels, neighbour lists, insertion and beam search. The graph knows
// nothing about dtypes; distances come from a VectorStore / QueryDistance.
//
// Concurrency: insert() may run on many threads at once and alongside search(). Writers
// serialise per node with striped locks. Readers never lock: they copy a neighbour list as its
// count, then its slots, each one word read atomically. A writer stores the slots first and
// the count last, but rewrites a full list in place (link_back trims it), so a reader racing
// that rewrite may copy a mix of the old and the new list, possibly holding one slot twice or
// ending in old slots past the new count. Every slot it copies is a node that was in that
// list at some point, and nodes leave the graph only in remove_nodes(), which runs alone:
// so a reader always reaches valid, linked nodes, and its visited set drops the repeats.
// Slots and levels are stored with release and loaded with acquire, so a reader that finds a
// node also sees that node's level, upper lists and stored vector.
// reserve() and remove_nodes() must not run concurrently with anything (the index holds an
// exclusive lock around them).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/neighbor_heap.h"
#include "graph/search_context.h"
#include "storage/vector_store.h"
#include "util/aligned_buffer.h"
#include "util/bytes.h"
#include "util/prefetch.h"

namespace vecindex {

// What a beam search keeps and how far it may go.
struct Beam {
  size_t ef = 1;                     // nodes kept
  int level = 0;
  const uint64_t* accept = nullptr;  // only nodes with their bit set are kept (nullptr: all);
                                     // the others still lead the walk
  // Set: the walk stops once it has computed more than *budget distances and sets *budget to
  // 0 (the caller falls back to a scan); otherwise *budget is left as is.
  size_t* budget = nullptr;
};

// Replaces the distances of `candidates` with `exact`'s and sorts them nearest first (an
// insert that walked cheaper codes, and the search rerank, both end with it).
void rescore_nearest_first(std::vector<Neighbor>& candidates, const QueryDistance& exact);
// The same for the first `count` entries of `candidates` only.
void rescore_nearest_first(Neighbor* candidates, size_t count, const QueryDistance& exact);

class HnswGraph {
 public:
  static constexpr int kMaxLevel = 16;
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  HnswGraph(size_t M, size_t ef_construction, uint64_t seed);

  size_t M() const { return M_; }
  size_t max_degree0() const { return M0_; }
  size_t ef_construction() const { return ef_construction_; }
  uint64_t seed() const { return seed_; }
  size_t capacity() const { return capacity_; }

  void reserve(size_t capacity);

  // Adds `slot` (its code already in `store`) using `vector` as the query while linking.
  // With `walk_store`, the walks that find candidates score on its (cheaper) codes instead,
  // and the candidates are scored again on `store` before links are chosen, so every link
  // and every distance the heuristic compares is `store`'s.
  void insert(uint32_t slot, const float* vector, const VectorStore& store, const VectorStore* walk_store = nullptr);

  // A context from `pool`, sized for this graph as it is now.
  SearchContextPool::Handle borrow_context(SearchContextPool& pool) const { return pool.borrow(capacity_, M0_); }

  // Descends from the entry point, then beam-searches level 0: context.found holds up to
  // `ef` nodes whose bit is set in `accept` (nullptr accepts all), nearest first.
  void search(const QueryDistance& query, size_t ef, const uint64_t* accept, SearchContext& context) const;
  // search() for `count` queries, each with its own context, with the same results. Without
  // `accept`, their level-0 walks advance in lockstep: a step gathers each walk's new
  // neighbours and requests their rows, then scores each walk's batch, so one walk's rows
  // arrive from memory while the others are scored (see kWalksInterleaved).
  void search(const QueryDistance* const* queries, size_t count, size_t ef, const uint64_t* accept,
              SearchContext* const* contexts) const;

  // The one beam search of every walk (queries, filtered strategies, inserts at every level):
  // from `entries` (filtered strategies seed extra ones) at beam.level, scoring each node's
  // unvisited neighbours in one prefetched batch. Result in context.found, nearest first.
  // Marks already in context.visited are skipped (an insert marks the node it links).
  void beam_search(const QueryDistance& query, const uint32_t* entries, size_t entry_count, const Beam& beam,
                   SearchContext& context) const;

  // Greedy descent through the upper levels to a level-0 entry point.
  uint32_t descend(const QueryDistance& query) const { return greedy_descent(query, entry_.load(), 0); }

  bool contains(uint32_t slot) const { return slot < capacity_ && level_of(slot) >= 0; }
  // Inserts write a node's level while other threads read levels: one atomic byte.
  int level_of(uint32_t slot) const { return __atomic_load_n(&levels_[slot], __ATOMIC_ACQUIRE); }
  uint32_t entry_point() const { return uint32_t(entry_.load() >> 8); }
  int max_level() const;
  bool empty() const { return entry_.load() == kEmptyEntry; }

  // Requests the neighbour list of `slot` at `level` (count and ids, up to three cache lines
  // at level 0) ahead of a neighbors() call.
  void prefetch_neighbors(uint32_t slot, int level) const {
    const size_t bytes = (1 + max_degree(level)) * sizeof(uint32_t);
    const char* list = reinterpret_cast<const char*>(links(slot, level));
    for (size_t offset = 0; offset < bytes; offset += 64) prefetch_line(list + offset);
    prefetch_line(list + bytes - 1);
  }

  // Copies the neighbours of `slot` at `level` into out; returns the count.
  size_t neighbors(uint32_t slot, int level, uint32_t* out) const;
  size_t max_degree(int level) const { return level == 0 ? M0_ : M_; }


  // Takes the nodes flagged in `removed` out of the graph for good, repairing the links of
  // nodes that pointed at them. Must not run concurrently with insert or search.
  void remove_nodes(const std::vector<uint8_t>& removed, size_t count, const VectorStore& store, size_t threads);

  // Renumbers the first permutation.size() slots (hnsw_reorder.cpp): lists, levels and entry
  // point move, and every stored link is renamed. Must not run concurrently with anything.
  // Throws StateError for a view load or InvalidArgument for a permutation past capacity(),
  // before changing anything; otherwise it allocates nothing and cannot fail.
  void permute(const SlotPermutation& permutation);

  void save(ByteWriter& out, size_t count) const;
  // Validates levels, degrees, neighbour ranges and the entry point before accepting. With
  // `view`, the level-0 lists are read in place from `in`'s bytes (validated there), which the
  // caller keeps alive and unchanged; the graph is then read-only: no insert, reserve or remove.
  // `padded`: the levels are followed by zero padding to a 4-byte boundary (format 2 on).
  void load(ByteReader& in, size_t count, bool view = false, bool padded = true);

  // Structural check: no self-links, duplicates or links to absent nodes. Returns "" if sound.
  std::string integrity_error(size_t count) const;

  size_t memory_bytes() const;
  double mean_degree0(size_t count) const;

 private:
  // Reads the list of `slot` at `level`, marks its unvisited neighbours visited and writes
  // them to `fresh` (room for a whole list); returns how many. The walks score the lists of
  // kListsPerStep nodes in one batch.
  size_t gather_unvisited(uint32_t slot, int level, SearchContext& context, uint32_t* fresh) const;
  // An unfiltered walk between steps: its candidates live in context.pool; `cursor` is the
  // nearest unexpanded one, `next` the one after this step's lists, `fresh_count` how many
  // new neighbours this step gathered into context.fresh, `computed` the distances so far.
  struct PoolWalk {
    size_t cursor = 0, next = 0, fresh_count = 0, computed = 0;
  };
  void start_pool_walk(const QueryDistance& query, const uint32_t* entries, size_t entry_count, const Beam& beam,
                       SearchContext& context, PoolWalk& walk) const;
  // A step's first half: expands up to kListsPerStep nearest unexpanded candidates into
  // context.fresh and requests their rows from `query`. False: the walk is finished.
  bool gather_step(const QueryDistance& query, int level, SearchContext& context, PoolWalk& walk) const;
  // Its second half: scores the gathered neighbours and inserts them into the pool. False:
  // the walk ran out of budget (*beam.budget is then 0).
  bool score_step(const QueryDistance& query, const Beam& beam, SearchContext& context, PoolWalk& walk) const;
  // beam_search with beam.accept set: rejected nodes still lead the walk, so the frontier and
  // the best accepted nodes are two heaps (an unfiltered walk keeps one SortedPool).
  void filtered_beam_search(const QueryDistance& query, const uint32_t* entries, size_t entry_count,
                            const Beam& beam, SearchContext& context) const;
  static constexpr uint64_t kEmptyEntry = ~uint64_t(0);
  static uint64_t pack_entry(uint32_t slot, int level) { return (uint64_t(slot) << 8) | uint64_t(level); }

  // Inline: the walk's list prefetch computes it once per expanded node.
  const uint32_t* links(uint32_t slot, int level) const {
    if (level == 0) return level0_words() + size_t(slot) * (1 + M0_);
    return upper_[slot].get() + size_t(level - 1) * (1 + M_);
  }
  uint32_t* links(uint32_t slot, int level) {  // never the read-only view
    if (level == 0) return reinterpret_cast<uint32_t*>(level0_.data()) + size_t(slot) * (1 + M0_);
    return upper_[slot].get() + size_t(level - 1) * (1 + M_);
  }
  const uint32_t* level0_words() const {
    return level0_view_ ? level0_view_ : reinterpret_cast<const uint32_t*>(level0_.data());
  }
  int random_level(uint32_t slot) const;
  std::mutex& node_lock(uint32_t slot) const { return node_locks_[slot & (kLockStripes - 1)]; }

  // From `entry` (a packed entry_ value) down to the entry point of level `stop_level`,
  // moving to the nearest neighbour while one is nearer; each node's list is one batch.
  uint32_t greedy_descent(const QueryDistance& query, uint64_t entry, int stop_level) const;
  // The HNSW neighbour-selection heuristic: keep a candidate only if it is closer to the base
  // than to every neighbour already kept, which favours links in diverse directions.
  void select_neighbors(std::vector<Neighbor>& candidates, size_t max_count, const VectorStore& store) const;
  void link_back(uint32_t target, uint32_t source, float distance, int level, const VectorStore& store);
  void write_links(uint32_t slot, int level, const uint32_t* ids, size_t count);

  size_t M_, M0_, ef_construction_;
  uint64_t seed_;
  double level_scale_;
  size_t capacity_ = 0;
  AlignedBuffer level0_;                           // capacity x (1 + M0) uint32: count, ids
  const uint32_t* level0_view_ = nullptr;           // set instead of level0_ by a view load
  std::vector<std::unique_ptr<uint32_t[]>> upper_;  // per slot: level x (1 + M) uint32
  std::vector<int8_t> levels_;                     // -1 = not in the graph
  std::atomic<uint64_t> entry_{kEmptyEntry};        // (entry slot << 8) | max level
  std::mutex entry_mutex_;
  static constexpr size_t kLockStripes = 4096;
  mutable std::unique_ptr<std::mutex[]> node_locks_;
  mutable SearchContextPool build_contexts_;
};

}  // namespace vecindex
