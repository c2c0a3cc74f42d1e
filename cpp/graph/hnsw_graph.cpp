#include "graph/hnsw_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/errors.h"

namespace vecindex {
namespace {

uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// `bits` may be the index's live bits, which adds set with an atomic fetch_or meanwhile.
bool bit_set(const uint64_t* bits, uint32_t slot) {
  return (__atomic_load_n(&bits[slot >> 6], __ATOMIC_ACQUIRE) >> (slot & 63)) & 1;
}

// Under inner product one long vector out-scores most others for every node, so the usual
// diversity rule keeps few links (about 5 per node on clustered data with norms 0.2-3) and the
// graph falls apart. For "ip" the rule only orders links: pruned candidates refill the list up
// to its limit, and a node's own level-0 list may take M0 links like the lists linking back to
// it. Measured against hnswlib in tests/test_ip_recall.py and bench/ip_recall.py.
bool dense_links(const VectorStore& store) { return store.metric() == Metric::ip; }

}  // namespace

void rescore_nearest_first(std::vector<Neighbor>& candidates, const QueryDistance& exact) {
  rescore_nearest_first(candidates.data(), candidates.size(), exact);
}

void rescore_nearest_first(Neighbor* candidates, size_t count, const QueryDistance& exact) {
  // One batch, so the store can overlap the rows' cache misses (these rows are rarely cached:
  // the walk read only codes). Scoring one at a time cost ~1 us a row.
  std::vector<uint32_t> slots(count);
  std::vector<float> distances(count);
  for (size_t i = 0; i < count; ++i) slots[i] = candidates[i].slot;
  exact.distances(slots.data(), count, distances.data());
  for (size_t i = 0; i < count; ++i) candidates[i].distance = distances[i];
  std::sort(candidates, candidates + count);
}

HnswGraph::HnswGraph(size_t M, size_t ef_construction, uint64_t seed)
    : M_(M), M0_(2 * M), ef_construction_(ef_construction), seed_(seed),
      level_scale_(1.0 / std::log(double(std::max<size_t>(M, 2)))),
      node_locks_(new std::mutex[kLockStripes]) {
  if (M < 2 || M > 1024) throw InvalidArgument("M must be between 2 and 1024, got " + std::to_string(M));
  if (ef_construction < 1) throw InvalidArgument("ef_construction must be >= 1");
}

void HnswGraph::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  if (level0_view_) throw StateError("a graph viewed in a mapped file cannot grow");
  level0_.resize(capacity * (1 + M0_) * sizeof(uint32_t));
  upper_.resize(capacity);
  levels_.resize(capacity, -1);
  capacity_ = capacity;
}

int HnswGraph::max_level() const {
  uint64_t entry = entry_.load();
  return entry == kEmptyEntry ? -1 : int(entry & 0xFF);
}

int HnswGraph::random_level(uint32_t slot) const {
  // Derived from (seed, slot) rather than a shared RNG, so parallel inserts assign the same
  // levels as a single-threaded build.
  uint64_t bits = mix64(seed_ ^ mix64(slot));
  double uniform = (double(bits >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  int level = int(-std::log(uniform) * level_scale_);
  return std::min(level, kMaxLevel);
}

size_t HnswGraph::neighbors(uint32_t slot, int level, uint32_t* out) const {
  const uint32_t* block = links(slot, level);
  size_t count = __atomic_load_n(block, __ATOMIC_ACQUIRE);
  count = std::min(count, max_degree(level));
  // Acquire per slot: a slot a writer has just stored may name a node linked after the count
  // we read, and its level and vector must be visible before we follow it.
  for (size_t i = 0; i < count; ++i) out[i] = __atomic_load_n(block + 1 + i, __ATOMIC_ACQUIRE);
  return count;
}

void HnswGraph::write_links(uint32_t slot, int level, const uint32_t* ids, size_t count) {
  uint32_t* block = links(slot, level);
  for (size_t i = 0; i < count; ++i) __atomic_store_n(block + 1 + i, ids[i], __ATOMIC_RELEASE);
  __atomic_store_n(block, uint32_t(count), __ATOMIC_RELEASE);
}

void HnswGraph::select_neighbors(std::vector<Neighbor>& candidates, size_t max_count,
                                 const VectorStore& store) const {
  if (candidates.size() <= max_count) return;
  std::vector<Neighbor> kept, pruned;
  kept.reserve(max_count);
  for (const Neighbor& candidate : candidates) {
    if (kept.size() >= max_count) break;
    bool diverse = true;
    for (const Neighbor& chosen : kept) {
      if (store.build_distance(candidate.slot, chosen.slot) < candidate.distance) {
        diverse = false;
        break;
      }
    }
    (diverse ? kept : pruned).push_back(candidate);
  }
  if (dense_links(store))
    for (size_t i = 0; i < pruned.size() && kept.size() < max_count; ++i) kept.push_back(pruned[i]);
  candidates.swap(kept);
}

uint32_t HnswGraph::greedy_descent(const QueryDistance& query, uint64_t entry, int stop_level) const {
  uint32_t current = uint32_t(entry >> 8);
  const int top = int(entry & 0xFF);
  if (top <= stop_level) return current;
  float current_distance = query.distance(current);
  uint32_t ids[1025];
  float distances[1025];
  for (int level = top; level > stop_level; --level) {
    bool improved = true;
    while (improved) {
      improved = false;
      // A concurrent insert may publish a new entry before our view of its level; never
      // read above a node's own top level.
      if (level_of(current) < level) break;
      size_t count = neighbors(current, level, ids);
      // One batch per node, so the store overlaps the neighbours' cache misses; one call at
      // a time left each upper-level hop waiting on a miss per neighbour.
      query.distances(ids, count, distances);
      for (size_t i = 0; i < count; ++i) {
        if (distances[i] < current_distance) {
          current_distance = distances[i];
          current = ids[i];
          improved = true;
        }
      }
    }
  }
  return current;
}

void HnswGraph::search(const QueryDistance& query, size_t ef, const uint64_t* accept, SearchContext& context) const {
  context.found.clear();
  if (empty()) return;
  const uint32_t entry = descend(query);
  Beam beam;
  beam.ef = ef;
  beam.accept = accept;
  beam_search(query, &entry, 1, beam, context);
}

size_t HnswGraph::gather_unvisited(uint32_t slot, int level, SearchContext& context, uint32_t* fresh) const {
  uint32_t* ids = context.links.data();
  VisitedSet& visited = context.visited;
  size_t count = neighbors(slot, level, ids);
  for (size_t i = 0; i < count; ++i) visited.prefetch(ids[i]);
  if (level == 0) return visited.mark_fresh(ids, count, fresh);
  size_t fresh_count = 0;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t next = ids[i];
    // Above level 0 a list may name a node whose level a concurrent insert has not yet
    // published to us; its upper lists must not be read.
    if (level_of(next) < level) continue;
    if (!visited.test_and_set(next)) fresh[fresh_count++] = next;
  }
  return fresh_count;
}

void HnswGraph::search(const QueryDistance* const* queries, size_t count, size_t ef, const uint64_t* accept,
                        SearchContext* const* contexts) const {
  if (accept || count == 1 || empty()) {
    for (size_t q = 0; q < count; ++q) search(*queries[q], ef, accept, *contexts[q]);
    return;
  }
  Beam beam;
  beam.ef = ef;
  std::vector<PoolWalk> walks(count);
  std::vector<size_t> running(count), gathered;
  for (size_t q = 0; q < count; ++q) {
    const uint32_t entry = descend(*queries[q]);
    start_pool_walk(*queries[q], &entry, 1, beam, *contexts[q], walks[q]);
    running[q] = q;
  }
  gathered.reserve(count);
  while (!running.empty()) {
    gathered.clear();
    for (size_t q : running)
      if (gather_step(*queries[q], 0, *contexts[q], walks[q])) gathered.push_back(q);
    for (size_t q : gathered) score_step(*queries[q], beam, *contexts[q], walks[q]);
    running.swap(gathered);
  }
  for (size_t q = 0; q < count; ++q) contexts[q]->pool.copy_to(contexts[q]->found);
}

void HnswGraph::beam_search(const QueryDistance& query, const uint32_t* entries, size_t entry_count, const Beam& beam,
                            SearchContext& context) const {
  if (beam.accept) {
    filtered_beam_search(query, entries, entry_count, beam, context);
    return;
  }
  PoolWalk walk;
  start_pool_walk(query, entries, entry_count, beam, context, walk);
  while (gather_step(query, beam.level, context, walk) && score_step(query, beam, context, walk)) {
  }
  context.pool.copy_to(context.found);
}

void HnswGraph::start_pool_walk(const QueryDistance& query, const uint32_t* entries, size_t entry_count,
                                const Beam& beam, SearchContext& context, PoolWalk& walk) const {
  SortedPool& pool = context.pool;
  pool.reset(beam.ef);
  for (size_t e = 0; e < entry_count; ++e) {
    if (context.visited.test_and_set(entries[e])) continue;
    pool.insert(query.distance(entries[e]), entries[e]);
  }
  walk = PoolWalk{};
  walk.cursor = pool.next_unexpanded(0);
}

bool HnswGraph::gather_step(const QueryDistance& query, int level, SearchContext& context, PoolWalk& walk) const {
  SortedPool& pool = context.pool;
  if (walk.cursor >= pool.size()) return false;
  // The nearest unexpanded entries, up to kListsPerStep, are expanded together.
  size_t fresh_count = 0, next = walk.cursor;
  for (size_t taken = 0; taken < kListsPerStep && next < pool.size(); ++taken) {
    fresh_count += gather_unvisited(pool.slot(next), level, context, context.fresh.data() + fresh_count);
    pool.mark_expanded(next);
    next = pool.next_unexpanded(next + 1);
  }
  // The whole list: the first line alone left its tail to miss when the next step reads it.
  if (next < pool.size()) prefetch_neighbors(pool.slot(next), level);
  // Every row this step will score is requested now, before the lists' bookkeeping ends. One
  // walk alone on the 50k Debian set (paired, ef 10-24): sq8 1.05-1.07x, f16 1.12-1.14x, f32
  // level (0.98-1.00x); interleaved walks gain nothing without it.
  for (size_t i = 0; i < fresh_count; ++i) query.prefetch(context.fresh[i]);
  walk.next = next;
  walk.fresh_count = fresh_count;
  return true;
}

bool HnswGraph::score_step(const QueryDistance& query, const Beam& beam, SearchContext& context,
                           PoolWalk& walk) const {
  SortedPool& pool = context.pool;
  const uint32_t* fresh = context.fresh.data();
  const float* distances = context.distances.data();
  const size_t fresh_count = walk.fresh_count;
  query.distances(fresh, fresh_count, context.distances.data());
  walk.computed += fresh_count;
  if (beam.budget && walk.computed > *beam.budget) {
    *beam.budget = 0;
    walk.cursor = pool.size();
    return false;
  }
  size_t next = walk.next;
  for (size_t i = 0; i < fresh_count; ++i) {
    const size_t position = pool.insert(distances[i], fresh[i]);
    if (position == SortedPool::kRejected) continue;
    if (position <= next) {
      // It will be expanded before the node whose list was fetched above: fetch its list
      // now (fetching every inserted node's list measured 3% slower).
      prefetch_neighbors(fresh[i], beam.level);
      next = position;
    }
    // An insert after `next` shifts only entries after it.
  }
  // Every entry before `next` is expanded: the new ones all went at or after it.
  walk.cursor = next;
  return true;
}

void HnswGraph::filtered_beam_search(const QueryDistance& query, const uint32_t* entries, size_t entry_count,
                                     const Beam& beam, SearchContext& context) const {
  const int level = beam.level;
  const size_t ef = beam.ef;
  const uint64_t* accept = beam.accept;
  NearestOnTop& frontier = context.frontier;
  FarthestOnTop& best = context.best;
  frontier.clear();
  best.clear();
  for (size_t e = 0; e < entry_count; ++e) {
    const uint32_t entry = entries[e];
    if (context.visited.test_and_set(entry)) continue;
    float d = query.distance(entry);
    frontier.push({d, entry});
    if (bit_set(accept, entry)) {
      best.push({d, entry});
      if (best.size() > ef) best.pop();
    }
  }
  float bound = best.size() >= ef ? best.top().distance : std::numeric_limits<float>::infinity();
  const uint32_t* fresh = context.fresh.data();
  const float* distances = context.distances.data();
  size_t computed = 0;
  while (!frontier.empty() && frontier.top().distance <= bound) {
    // As in beam_search: the nearest candidates still in reach, up to kListsPerStep, together.
    size_t fresh_count = 0;
    for (size_t taken = 0; taken < kListsPerStep && !frontier.empty() && frontier.top().distance <= bound; ++taken) {
      const uint32_t slot = frontier.top().slot;
      frontier.pop();
      fresh_count += gather_unvisited(slot, level, context, context.fresh.data() + fresh_count);
    }
    if (!frontier.empty()) prefetch_neighbors(frontier.top().slot, level);
    query.distances(fresh, fresh_count, context.distances.data());
    computed += fresh_count;
    if (beam.budget && computed > *beam.budget) {
      *beam.budget = 0;
      break;
    }
    float frontier_top = frontier.empty() ? std::numeric_limits<float>::infinity() : frontier.top().distance;
    for (size_t i = 0; i < fresh_count; ++i) {
      const float d = distances[i];
      if (d >= bound) continue;
      if (d < frontier_top) {
        prefetch_neighbors(fresh[i], level);
        frontier_top = d;
      }
      frontier.push({d, fresh[i]});
      if (bit_set(accept, fresh[i])) {
        best.push({d, fresh[i]});
        if (best.size() > ef) best.pop();
        if (best.size() >= ef) bound = best.top().distance;
      }
    }
  }
  drain_nearest_first(best, context.found);
}

void HnswGraph::link_back(uint32_t target, uint32_t source, float distance, int level, const VectorStore& store) {
  std::lock_guard<std::mutex> lock(node_lock(target));
  uint32_t* block = links(target, level);
  size_t count = std::min<size_t>(block[0], max_degree(level));
  for (size_t i = 0; i < count; ++i)
    if (block[1 + i] == source) return;
  if (count < max_degree(level)) {
    __atomic_store_n(block + 1 + count, source, __ATOMIC_RELEASE);
    __atomic_store_n(block, uint32_t(count + 1), __ATOMIC_RELEASE);
    return;
  }
  std::vector<Neighbor> candidates;
  candidates.reserve(count + 1);
  candidates.push_back({distance, source});
  for (size_t i = 0; i < count; ++i) candidates.push_back({store.build_distance(target, block[1 + i]), block[1 + i]});
  std::sort(candidates.begin(), candidates.end());
  select_neighbors(candidates, max_degree(level), store);
  std::vector<uint32_t> ids(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) ids[i] = candidates[i].slot;
  write_links(target, level, ids.data(), ids.size());
}

void HnswGraph::insert(uint32_t slot, const float* vector, const VectorStore& store, const VectorStore* walk_store) {
  if (slot >= capacity_) throw InvalidArgument("graph slot out of range");
  const int level = random_level(slot);
  if (level > 0) {
    upper_[slot].reset(new uint32_t[size_t(level) * (1 + M_)]());
  } else {
    upper_[slot].reset();
  }
  { uint32_t zero = 0; write_links(slot, 0, &zero, 0); }
  __atomic_store_n(&levels_[slot], int8_t(level), __ATOMIC_RELEASE);
  auto exact = store.build_query(slot, vector);
  auto approximate = walk_store ? walk_store->query(vector) : nullptr;
  const QueryDistance& query = approximate ? *approximate : *exact;

  std::unique_lock<std::mutex> entry_lock(entry_mutex_);
  uint64_t entry = entry_.load();
  if (entry == kEmptyEntry) {
    entry_.store(pack_entry(slot, level));
    return;
  }
  const int top = int(entry & 0xFF);
  // Only a node that raises the top level keeps the lock, so the entry point it will
  // become cannot be superseded half-way.
  if (level <= top) entry_lock.unlock();

  uint32_t current = greedy_descent(query, entry, level);
  const int link_top = std::min(level, top);
  std::vector<std::vector<Neighbor>> chosen(size_t(link_top) + 1);
  auto context = borrow_context(build_contexts_);
  Beam beam;
  beam.ef = ef_construction_;
  for (int l = link_top; l >= 0; --l) {
    if (l != link_top) context->visited.prepare(capacity_);
    context->visited.test_and_set(slot);
    beam.level = l;
    beam_search(query, &current, 1, beam, *context);
    std::vector<Neighbor>& found = context->found;
    found.erase(std::remove_if(found.begin(), found.end(), [&](const Neighbor& n) { return n.slot == slot; }),
                found.end());
    if (found.empty()) continue;
    if (approximate) rescore_nearest_first(found, *exact);
    current = found.front().slot;
    select_neighbors(found, l == 0 && dense_links(store) ? M0_ : M_, store);
    std::vector<uint32_t> ids(found.size());
    for (size_t i = 0; i < found.size(); ++i) ids[i] = found[i].slot;
    {
      std::lock_guard<std::mutex> lock(node_lock(slot));
      write_links(slot, l, ids.data(), ids.size());
    }
    chosen[size_t(l)] = found;
  }
  // Link back only once the node's own lists are written at every level: a concurrent search
  // that reaches it at level l must find its links at l-1 ... 0, or it descends into a node
  // with no neighbours and returns (almost) nothing.
  for (int l = link_top; l >= 0; --l)
    for (const Neighbor& neighbor : chosen[size_t(l)]) link_back(neighbor.slot, slot, neighbor.distance, l, store);
  if (level > top) entry_.store(pack_entry(slot, level));
}

size_t HnswGraph::memory_bytes() const {
  size_t bytes = level0_.size() + levels_.size() + upper_.size() * sizeof(void*);
  for (size_t slot = 0; slot < capacity_; ++slot) {
    const int level = level_of(uint32_t(slot));
    if (level > 0) bytes += size_t(level) * (1 + M_) * sizeof(uint32_t);
  }
  return bytes;
}

double HnswGraph::mean_degree0(size_t count) const {
  size_t nodes = 0, edges = 0;
  for (size_t slot = 0; slot < count && slot < capacity_; ++slot) {
    if (level_of(uint32_t(slot)) < 0) continue;
    ++nodes;
    edges += std::min<size_t>(__atomic_load_n(links(uint32_t(slot), 0), __ATOMIC_ACQUIRE), M0_);
  }
  return nodes ? double(edges) / double(nodes) : 0.0;
}

}  // namespace vecindex
