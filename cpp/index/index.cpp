#include "index/index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include "index/id_list.h"
#include "index/rerank.h"
#include "util/double_sums.h"
#include "util/errors.h"

namespace vecindex {

void IndexConfig::validate() const {
  if (dim < 1 || dim > 65536) throw InvalidArgument("dim must be between 1 and 65536, got " + std::to_string(dim));
  if (M < 2 || M > 1024) throw InvalidArgument("M must be between 2 and 1024, got " + std::to_string(M));
  if (ef_construction < 1 || ef_construction > 100000)
    throw InvalidArgument("ef_construction must be between 1 and 100000, got " + std::to_string(ef_construction));
  if (ef_search < 1 || ef_search > 100000)
    throw InvalidArgument("ef_search must be between 1 and 100000, got " + std::to_string(ef_search));
  if (graph_codes != "none" && graph_codes != "rabitq")
    throw InvalidArgument("graph_codes must be 'none' or 'rabitq', got '" + graph_codes + "'");
  if (graph_codes == "rabitq" && dtype != "f32")
    throw InvalidArgument("graph_codes='rabitq' needs dtype='f32' (its walk computes exact distances on f32 vectors), got dtype='" + dtype + "'");
  if (graph_codes == "rabitq" && dim < 2) throw InvalidArgument("graph_codes='rabitq' needs dim >= 2");
}

void SearchParams::validate(bool with_rerank_factor) const {
  auto check = [](const char* name, size_t value, int64_t low, int64_t high) {
    const int64_t given = int64_t(value);
    if (given < low) throw InvalidArgument(std::string(name) + " must be >= " + std::to_string(low) + ", got " + std::to_string(given));
    if (given > high) throw InvalidArgument(std::string(name) + " must be <= " + std::to_string(high) + ", got " + std::to_string(given));
  };
  check("k", k, 1, 100000);
  if (ef) check("ef", *ef, 1, 1000000);
  if (with_rerank_factor || rerank_factor) check("rerank_factor", rerank_factor, 1, 1000);
}

Index::Index(const IndexConfig& config)
    : config_((config.validate(), config)),
      store_(make_store(config.dtype, config.dim, config.metric, config.store)),
      graph_(config.M, config.ef_construction, config.seed),
      attributes_(config.attributes),
      ef_search_(config.ef_search) {
  if (config_.rerank && store_->dtype() != "f32") full_store_ = make_store("f32", config.dim, config.metric, config.store);
  lazy_training_at_ = std::max(kLazyTrainingRows, store_->min_training_size());
  if (config_.graph_codes == "rabitq") {
    graph_code_store_ = std::make_unique<RabitqStore>(config_.dim, config_.metric, config_.store.seed);
    code_blocks_ = std::make_unique<NeighborCodeBlocks>(config_.dim, graph_.max_degree0());
  }
}

size_t Index::size() const { return live_count_.load(); }

bool Index::contains(int64_t id) const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  auto found = id_to_slot_.find(id);
  return found != id_to_slot_.end() && slot_live(found->second);  // an add in flight is not in yet
}

void Index::set_ef_search(size_t ef) {
  if (ef < 1 || ef > 100000) throw InvalidArgument("ef_search must be between 1 and 100000, got " + std::to_string(ef));
  // Only the atomic: config_ is read without a lock (dim, metric, ...), so it must never change.
  ef_search_ = ef;
}

bool Index::walks_graph_codes() const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  return graph_codes_ready();
}

bool Index::is_trained() const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);  // the first add trains under an exclusive lock
  return store_->is_trained();
}

void Index::check_vectors(const float* vectors, size_t n) const {
  const size_t dim = config_.dim;
  for (size_t row = 0; row < n; ++row) {
    const float* vector = vectors + row * dim;
    // Counted without an early exit, so the loop vectorises; NaN fails the comparison as
    // infinity does.
    unsigned not_finite = 0;
    for (size_t i = 0; i < dim; ++i) not_finite += std::fabs(vector[i]) <= std::numeric_limits<float>::max() ? 0u : 1u;
    if (not_finite) throw InvalidArgument("vectors contain NaN or infinity (row " + std::to_string(row) + ")");
    // Cosine normalises in double first, so only l2/ip distances can overflow float32.
    if (config_.metric == Metric::cosine) continue;
    const double squared_norm = sum_of_squares(vector, dim);
    if (squared_norm > kMaxSquaredNorm)
      throw InvalidArgument("row " + std::to_string(row) + " is too large (squared norm " + std::to_string(squared_norm) +
                            " > 1e36): its float32 distances would overflow");
  }
}

void Index::prepare_vector(const float* in, float* out) const {
  std::memcpy(out, in, config_.dim * sizeof(float));
  if (config_.metric != Metric::cosine) return;
  const double norm = sum_of_squares(in, config_.dim);
  // A zero vector has no direction; it is kept as zeros (cosine distance 1 to everything).
  if (norm <= 0) return;
  // Scaled in double: for a tiny vector (subnormal values) 1/norm overflows float.
  const double scale = 1.0 / std::sqrt(norm);
  for (size_t i = 0; i < config_.dim; ++i) out[i] = float(double(in[i]) * scale);
}

void Index::set_live(uint32_t slot, bool live) {
  uint64_t bit = uint64_t(1) << (slot & 63);
  if (live) {
    uint64_t before = __atomic_fetch_or(&live_bits_[slot >> 6], bit, __ATOMIC_RELEASE);
    if (!(before & bit)) ++live_count_;
  } else {
    uint64_t before = __atomic_fetch_and(&live_bits_[slot >> 6], ~bit, __ATOMIC_RELEASE);
    if (before & bit) --live_count_;
  }
}

void Index::ensure_capacity(size_t needed) {
  if (needed > 0xFFFFFFF0u) throw InvalidArgument("an index holds at most 4,294,967,280 vectors");
  size_t capacity = store_->capacity();
  if (needed <= capacity) return;
  size_t grown = std::max<size_t>({needed, capacity + capacity / 2, 1024});
  store_->reserve(grown);
  if (full_store_) full_store_->reserve(grown);
  graph_.reserve(grown);
  if (graph_code_store_) {
    graph_code_store_->reserve(grown);
    code_blocks_->reserve(grown);
  }
  attributes_.resize(grown);
  slot_to_id_.resize(grown, -1);
  live_bits_.resize((grown + 63) / 64, 0);
}

void Index::train(const float* vectors, size_t n, size_t threads) {
  require_writable("train");
  check_vectors(vectors, n);
  if (!store_->needs_training()) return;
  if (n < store_->min_training_size())
    throw InvalidArgument("dtype '" + store_->dtype() + "' needs at least " + std::to_string(store_->min_training_size()) +
                          " training vectors, got " + std::to_string(n));
  std::vector<float> prepared(n * config_.dim);
  for (size_t i = 0; i < n; ++i) prepare_vector(vectors + i * config_.dim, prepared.data() + i * config_.dim);
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  if (slot_count_ == 0) {
    store_->train(prepared.data(), n, threads);
    return;
  }
  if (!trains_lazily() || store_->is_trained())
    throw StateError("train() must be called before the first add()" +
                     std::string(trains_lazily() ? " or, with rerank=True, before the codec is trained" : ""));
  store_->train(prepared.data(), n, threads);  // keeps the codec untrained if it throws
  encode_stored_rows(threads);
}

bool Index::train_from_full_vectors(const float* pending, size_t pending_count, size_t threads) {
  if (!trains_lazily() || store_->is_trained()) return false;
  // Only linked slots hold written rows: an add's reserved slot is written (and encoded, the
  // codec being trained by then) when it links, and no link runs under this exclusive lock.
  std::vector<uint32_t> linked;
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (graph_.contains(uint32_t(slot))) linked.push_back(uint32_t(slot));
  const size_t total = linked.size() + pending_count;
  if (total < lazy_training_at_) return false;
  const size_t dim = config_.dim;
  const size_t sample = std::min(total, kLazyTrainingSample);
  // The sample is every pending row when a first add trains: then they are trained on in place.
  const bool pending_only = linked.empty() && sample == pending_count;
  std::vector<float> rows(pending_only ? 0 : sample * dim);
  for (size_t i = 0; i < rows.size() / dim; ++i) {
    const size_t row = i * total / sample;  // evenly spread over the stored rows, then the pending ones
    if (row < linked.size()) full_store_->decode(linked[row], rows.data() + i * dim);
    else std::copy_n(pending + (row - linked.size()) * dim, dim, rows.data() + i * dim);
  }
  try {
    store_->train(pending_only ? pending : rows.data(), sample, threads);
  } catch (const InvalidArgument&) {
    lazy_training_at_ = total * 2;  // stays exact; tried again once the data has doubled
    return false;
  }
  encode_stored_rows(threads);
  return true;
}

const VectorStore* Index::insert_walk_store() const {
  if (!full_store_ || !store_->is_trained() || !store_->walks_like_full_vectors()) return nullptr;
  return store_.get();
}

void Index::encode_stored_rows(size_t threads) {
  store_->reserve(full_store_->capacity());
  const size_t workers = std::max<size_t>(1, resolve_threads(threads, slot_count_));
  std::vector<float> rows(workers * config_.dim);  // one row buffer per worker, not per slot
  parallel_for(slot_count_, workers, [&](size_t slot, size_t worker) {
    if (!graph_.contains(uint32_t(slot))) return;  // not written yet: its add encodes it
    float* row = rows.data() + worker * config_.dim;
    full_store_->decode(uint32_t(slot), row);
    store_->set(uint32_t(slot), row);
  });
}

void Index::search(const float* queries, size_t nq, const SearchParams& params, int64_t* out_ids,
                   float* out_distances, const PollFn& poll, std::vector<std::string>* out_keys) const {
  params.validate();
  check_vectors(queries, nq);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  const uint64_t* accept = live_count_.load() == slot_count_ ? nullptr : live_bits_.data();
  if (graph_codes_ready()) {
    search_graph_codes(queries, nq, params, out_ids, out_distances, accept, poll);
    if (out_keys) keys_of_ids(out_ids, nq * params.k, *out_keys);
    return;
  }
  // Groups no larger than each thread's share, so a small batch still spreads over the threads.
  const size_t workers = std::max<size_t>(1, resolve_threads(params.threads, nq));
  const size_t group = std::max<size_t>(1, std::min(interleaved_walks(), nq / workers));
  const size_t dim = config_.dim, k = params.k;
  parallel_for((nq + group - 1) / group, params.threads, [&](size_t g, size_t) {
    const size_t first = g * group;
    search_group(queries + first * dim, std::min(group, nq - first), params, out_ids + first * k,
                 out_distances + first * k, accept);
  }, poll);
  if (out_keys) keys_of_ids(out_ids, nq * params.k, *out_keys);
}

void Index::search_group(const float* queries, size_t count, const SearchParams& params, int64_t* out_ids,
                         float* out_distances, const uint64_t* accept) const {
  const size_t dim = config_.dim;
  std::vector<float> prepared(count * dim);
  std::vector<SearchContextPool::Handle> handles;
  std::vector<SearchContext*> contexts(count);
  std::vector<std::unique_ptr<QueryDistance>> walk_queries(count);
  std::vector<const QueryDistance*> walk_pointers(count);
  handles.reserve(count);
  for (size_t q = 0; q < count; ++q) {
    prepare_vector(queries + q * dim, prepared.data() + q * dim);
    handles.push_back(graph_.borrow_context(search_contexts_));
    contexts[q] = handles.back().get();
    walk_queries[q] = walk_store().query(prepared.data() + q * dim);
    walk_pointers[q] = walk_queries[q].get();
  }
  size_t ef = std::max(params.ef_or(ef_search_.load()), params.k);
  const bool rerank = full_store_ && walks_on_codes();
  if (rerank) ef = rerank_beam(ef, params.k, params.rerank_factor);
  graph_.search(walk_pointers.data(), count, ef, accept, contexts.data());
  for (size_t q = 0; q < count; ++q) {
    std::vector<Neighbor>& found = contexts[q]->found;
    if (rerank) {
      auto exact = full_store_->query(prepared.data() + q * dim);
      rerank_candidates(found, params.k, params.k * params.rerank_factor, *walk_queries[q], *exact);
    }
    write_results(found, params.k, out_ids + q * params.k, out_distances + q * params.k);
  }
}

void Index::write_results(const std::vector<Neighbor>& found, size_t k, int64_t* out_ids, float* out_distances) const {
  size_t filled = std::min(found.size(), k);
  for (size_t i = 0; i < filled; ++i) {
    out_ids[i] = slot_to_id_[found[i].slot];
    out_distances[i] = found[i].distance;
  }
  for (size_t i = filled; i < k; ++i) {
    out_ids[i] = -1;
    out_distances[i] = std::numeric_limits<float>::infinity();
  }
}

void Index::get(const int64_t* ids, size_t n, float* out) const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  get_locked(ids, n, out);
}

void Index::get_locked(const int64_t* ids, size_t n, float* out) const {
  std::vector<int64_t> missing;
  for (size_t i = 0; i < n; ++i) {
    // An id whose add is still in flight has no stored vector yet (its slot may still hold a
    // deleted vector's data): it is not in the index until it goes live.
    auto found = id_to_slot_.find(ids[i]);
    if (found == id_to_slot_.end() || !slot_live(found->second)) missing.push_back(ids[i]);
  }
  if (!missing.empty()) throw KeyNotFound("ids not in the index: " + list_ids(missing));
  const VectorStore& source = full_store_ ? *full_store_ : *store_;
  for (size_t i = 0; i < n; ++i) source.decode(id_to_slot_.at(ids[i]), out + i * config_.dim);
}

void Index::remove(const int64_t* ids, size_t n) {
  require_writable("delete");
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  remove_locked(ids, n);
}

void Index::remove_locked(const int64_t* ids, size_t n) {
  std::vector<int64_t> missing;
  for (size_t i = 0; i < n; ++i)
    if (!id_to_slot_.count(ids[i])) missing.push_back(ids[i]);
  if (!missing.empty()) throw KeyNotFound("ids not in the index: " + list_ids(missing));
  for (size_t i = 0; i < n; ++i) {
    auto found = id_to_slot_.find(ids[i]);
    if (found == id_to_slot_.end()) continue;  // listed twice in this call
    set_live(found->second, false);
    slot_to_id_[found->second] = -1;
    attributes_.clear_row(found->second);
    id_to_slot_.erase(found);
  }
}

size_t Index::deleted_count() const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  return deleted_count_locked();
}

size_t Index::deleted_count_locked() const {
  size_t tombstones = 0;
  for (size_t slot = 0; slot < slot_count_; ++slot) tombstones += is_tombstone(uint32_t(slot));
  return tombstones;
}

size_t Index::compact(size_t threads) {
  require_writable("compact");
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  if (config_.string_keys) forget_unused_keys();
  std::vector<uint8_t> removed(slot_count_, 0);
  size_t freed = 0;
  for (size_t slot = 0; slot < slot_count_; ++slot) {
    if (is_tombstone(uint32_t(slot))) {
      removed[slot] = 1;
      ++freed;
    }
  }
  if (freed == 0) return 0;
  graph_.remove_nodes(removed, slot_count_, link_store(), threads);
  rebuild_all_blocks(threads);  // the repair relinks neighbours of removed nodes anywhere
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (removed[slot]) free_slots_.push_back(uint32_t(slot));
  // Lowest slots are reused first, keeping the used range dense.
  std::sort(free_slots_.begin(), free_slots_.end(), std::greater<uint32_t>());
  return freed;
}

std::vector<int64_t> Index::ids() const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  std::vector<int64_t> out;
  out.reserve(id_to_slot_.size());
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (slot_to_id_[slot] >= 0 && slot_live(uint32_t(slot))) out.push_back(slot_to_id_[slot]);  // adds in flight are not in yet
  return out;
}

MemoryUsage Index::memory_usage() const {
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  return memory_usage_locked();
}

MemoryUsage Index::memory_usage_locked() const {
  MemoryUsage usage;
  usage.graph = graph_.memory_bytes();
  if (graph_code_store_) usage.graph += graph_code_store_->memory_bytes() + code_blocks_->memory_bytes();
  usage.codes = store_->memory_bytes();
  usage.full_vectors = full_store_ ? full_store_->memory_bytes() : 0;
  usage.attributes = attributes_.memory_bytes();
  usage.mapped = mapped_bytes();
  usage.keys = config_.string_keys ? keys_.memory_bytes() : 0;
  return usage;
}

IndexStats Index::stats() const {
  // Shared: adds keep linking meanwhile, so the graph figures are a moment's view; the graph
  // reads levels and list counts atomically, and arrays only grow under an exclusive lock.
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  IndexStats stats;
  stats.levels = graph_.max_level() + 1;
  stats.mean_degree0 = graph_.mean_degree0(slot_count_);
  stats.slots = slot_count_ - free_slots_.size();
  stats.slots_allocated = slot_count_;
  stats.deleted = deleted_count_locked();
  stats.live = live_count_.load();
  stats.interleaved_walks = interleaved_walks();
  stats.memory = memory_usage_locked();
  return stats;
}

std::string Index::integrity_error() const {
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  std::string graph_error = graph_.integrity_error(slot_count_);
  if (!graph_error.empty()) return graph_error;
  size_t live = 0, mapped = 0;
  for (size_t slot = 0; slot < slot_count_; ++slot) {
    const bool is_live = slot_live(uint32_t(slot));
    const int64_t id = slot_to_id_[slot];
    live += is_live;
    if (is_live && !graph_.contains(uint32_t(slot))) return "live slot " + std::to_string(slot) + " is not in the graph";
    if (is_live && id < 0) return "live slot " + std::to_string(slot) + " has no id";
    if (id < 0) continue;
    // A slot that holds an id but is not live is an add in flight: not linked yet, or a
    // replacement linked but not swapped in (its id maps to the old slot, or was deleted).
    auto found = id_to_slot_.find(id);
    const bool is_mapped = found != id_to_slot_.end() && found->second == slot;
    mapped += is_mapped;
    if (is_live && !is_mapped) return "live slot " + std::to_string(slot) + " holds id " + std::to_string(id) + ", which the id map puts elsewhere";
  }
  if (live != live_count_.load() || mapped != id_to_slot_.size()) return "live count disagrees with the id map";
  if (config_.string_keys) {
    for (const auto& [id, slot] : id_to_slot_) {
      if (!keys_.holds_id(id)) return "id " + std::to_string(id) + " has no string key";
      if (keys_.find(keys_.key_of(id)) != id) return "the key of id " + std::to_string(id) + " maps to another id";
    }
  }
  return "";
}

}  // namespace vecindex
