// Index = graph + storage + id map (+ optional full vectors for reranking).
//
// Thread safety: every public method may be called from many threads at once. Searches,
// inserts and the read-only accessors share `structure_mutex_`; growing the arenas, changing
// the id map, compact(), snapshots and integrity_error() take it exclusively. Callers from
// Python must release the GIL before any method that locks (all but the config accessors,
// size() and ef_search()): a long add or search holds the lock shared while it polls for
// Ctrl-C and progress, which takes the GIL.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "filter/attribute_batch.h"
#include "filter/attribute_store.h"
#include "filter/bitmap.h"
#include "filter/filter_expr.h"
#include "filter/planner.h"
#include "graph/hnsw_graph.h"
#include "graph/hnsw_reorder.h"
#include "index/key_table.h"
#include "io/mapped_file.h"
#include "storage/neighbor_code_blocks.h"
#include "storage/rabitq_store.h"
#include "storage/vector_store.h"
#include "util/errors.h"
#include "util/parallel.h"

namespace vecindex {

// An add() stopped by its poll (Ctrl-C or a progress callback). The rows linked before the
// stop stay in the index; added_ids lists their ids in input order, the rest were not added.
// For an index with string keys, added_keys lists their keys instead (added_ids is empty).
struct AddCancelled : Cancelled {
  AddCancelled(std::vector<int64_t> kept, size_t requested);
  std::vector<int64_t> added_ids;
  bool keyed = false;
  std::vector<std::string> added_keys;
};

struct IndexConfig {
  size_t dim = 0;
  Metric metric = Metric::l2;
  std::string dtype = "f32";
  size_t M = 16;
  size_t ef_construction = 200;
  size_t ef_search = 64;
  uint64_t seed = 100;
  StoreOptions store;
  bool rerank = false;  // keep full f32 vectors beside compressed codes
  std::vector<AttributeField> attributes;  // typed attribute columns for filtering
  bool string_keys = false;  // callers name vectors by string keys (key_table.h), not int64 ids
  // "none", or "rabitq": level-0 blocks of neighbour codes walked with exact distances
  // (index_graph_codes.cpp); needs dtype "f32".
  std::string graph_codes = "none";

  void validate() const;  // throws InvalidArgument
};

// Bytes held by each part of an index, read in one locked snapshot.
struct MemoryUsage {
  size_t graph = 0, codes = 0, full_vectors = 0, attributes = 0, mapped = 0, keys = 0;
};

// Graph statistics, read in one locked snapshot.
struct IndexStats {
  int levels = 0;            // HNSW levels in use
  double mean_degree0 = 0;   // links per node on the bottom level
  size_t slots = 0;            // slots in use: live, deleted not yet compacted, adds in flight
  size_t slots_allocated = 0;  // slots handed out so far: in use plus those compact() freed
  size_t deleted = 0;        // tombstones not yet compacted
  size_t live = 0;
  size_t interleaved_walks = 1;  // queries a batch search walks at once per thread
  MemoryUsage memory;
};

// Every search option, checked in one place (validate()) for every caller.
struct SearchParams {
  size_t k = 10;
  std::optional<size_t> ef;  // unset: the index's ef_search
  // Candidates reranked with full vectors = k * rerank_factor. No default here: the one
  // default, per dtype, is DEFAULTS["rerank_factor"] in python/vecindex/index.py, and
  // validate() refuses 0.
  size_t rerank_factor = 0;
  size_t threads = 1;        // 0: all cores

  // Throws InvalidArgument naming the option and its range. Values from a signed source
  // (Python ints pass through int64) that were negative arrive wrapped to 2^63 and above;
  // messages print them as the negative numbers they were.
  // explain() plans without reranking, so it passes with_rerank_factor=false to accept an
  // unset (0) rerank_factor.
  void validate(bool with_rerank_factor = true) const;
  // The beam width a search uses when ef is unset.
  size_t ef_or(size_t ef_search) const { return ef ? *ef : ef_search; }
};

class Index {
 public:
  explicit Index(const IndexConfig& config);

  // Fixed at construction (config().ef_search is the initial value; see ef_search()).
  const IndexConfig& config() const { return config_; }
  size_t size() const;  // live vectors; lock-free
  bool contains(int64_t id) const;
  size_t ef_search() const { return ef_search_.load(); }  // lock-free
  void set_ef_search(size_t ef);                           // lock-free

  // Adds n row-major vectors (index_add.cpp); not for an index with string keys. ids may be null (auto ids continue after the
  // largest id seen). With replace=false an existing id is an error; with replace=true its
  // vector is replaced, and its attribute row too when `attributes` is given (otherwise the
  // old row is kept). `attributes` (optional) holds one row per vector.
  // Every row is validated (values, ids, the store's range) before anything changes, so an
  // InvalidArgument leaves the index as it was. A vector becomes visible when its links are
  // complete; a replaced id keeps its old vector until the new one goes live. If `poll`
  // stops the call, the rows linked so far stay and AddCancelled lists them; ids of rows
  // not added are not used up.
  std::vector<int64_t> add(const float* vectors, size_t n, const int64_t* ids, bool replace, size_t threads,
                           const PollFn& poll = nullptr, const AttributeBatch* attributes = nullptr);

  // Trains the codec (no-op for f32). Throws InvalidArgument when the sample is too small.
  // Without full vectors it must come before the first add(); with them (rerank on a trained
  // dtype) it may come any time before the codec is trained, and encodes the rows added so far.
  void train(const float* vectors, size_t n, size_t threads);
  bool is_trained() const;

  // Lazy training, for a trained dtype with full vectors kept (rerank=True): adds of any size
  // are stored exactly and searched on the full vectors until the index holds this many rows;
  // the add that reaches it trains the codec on the stored rows and encodes them all. Below
  // it a graph walk is cheap anyway (a few MB of f32 rows), and the codec's ranges come from
  // a sample large enough that later rows rarely fall outside them (see the README's dtype
  // section for the measurement). Codecs needing more (pq: 256) wait for their own minimum.
  static constexpr size_t kLazyTrainingRows = 10000;
  // Lazy training reads at most this many stored rows, evenly spread over the slots, so the
  // exclusive lock it holds stays short on a large first add.
  static constexpr size_t kLazyTrainingSample = 65536;
  // graph_codes="rabitq": the codes' centroid is trained once the index holds this many rows;
  // smaller indexes are walked on the f32 vectors alone (exact as well).
  static constexpr size_t kGraphCodesTrainingRows = 1024;
  // True once graph codes are trained and searches walk the code blocks (graph_codes only).
  bool walks_graph_codes() const;

  // Writes nq x k ids and distances; short rows are padded with -1 / +inf.
  void search(const float* queries, size_t nq, const SearchParams& params, int64_t* out_ids,
              float* out_distances, const PollFn& poll = nullptr, std::vector<std::string>* out_keys = nullptr) const;

  // Filtered search (index_filtered.cpp): `filters` holds one expression for every query or
  // one per query. A planner picks exact scan / filtered graph walk / post-filter per query
  // from the exact match count, unless `strategy` forces one.
  void search_filtered(const float* queries, size_t nq, const SearchParams& params,
                       const std::vector<FilterExprPtr>& filters, FilterStrategy strategy, int64_t* out_ids,
                       float* out_distances, const PollFn& poll = nullptr,
                       std::vector<std::string>* out_keys = nullptr) const;
  // The plan search_filtered would use for this filter with these params.
  FilterPlan explain(const FilterExpr& filter, const SearchParams& params, FilterStrategy strategy) const;
  // Attribute rows of ids (schema order). Throws KeyNotFound listing unknown ids.
  std::vector<AttributeRow> get_attributes(const int64_t* ids, size_t n) const;
  const std::vector<AttributeField>& attribute_schema() const { return attributes_.schema(); }

  // Copies the stored vectors of ids into out (n x dim). Throws KeyNotFound listing unknown ids.
  void get(const int64_t* ids, size_t n, float* out) const;

  // Tombstones ids: they never come back from search. Throws KeyNotFound listing unknown ids.
  void remove(const int64_t* ids, size_t n);
  std::vector<int64_t> ids() const;

  // Unlinks tombstoned vectors from the graph (repairing their neighbours' links) and frees
  // their slots for later adds. Blocks other calls while it runs. Returns slots freed.
  size_t compact(size_t threads);
  size_t deleted_count() const;

  // Renumbers slots so that graph neighbours sit near each other in memory (index_reorder.cpp).
  // Ids, keys, vectors, attributes and every search result stay the same; only the memory
  // layout changes, and deleted slots move behind the graph's nodes. Waits for adds in
  // flight, then blocks other calls while it runs; it needs memory for a second copy of the
  // attributes and the id map. A read-only (mmap) index refuses with StateError. A failure
  // leaves the index as it was. Returns the number of slots that moved.
  size_t optimize(ReorderMethod method);

  std::vector<uint8_t> to_bytes() const;
  static std::unique_ptr<Index> from_bytes(const uint8_t* data, size_t size);
  void save(const std::string& path) const;
  // With mmap=true the file is mapped read-only and full-precision vectors are searched in
  // place (no copy); the index then refuses add/delete/compact/train with StateError.
  static std::unique_ptr<Index> load(const std::string& path, bool mmap = false);
  bool read_only() const { return mapping_ != nullptr; }
  size_t mapped_bytes() const;

  // String keys (index_keys.cpp), for an index with config().string_keys; the int64 calls
  // above then refuse add() and see only internal ids. Keys are checked by check_keys(); an
  // unknown key throws KeyNotFound listing it. Each call translates keys under the same lock
  // as its work, so a concurrent delete or compact never leaves a result without its key.
  // add_keys: an existing key is an error unless replace (as for int ids).
  void add_keys(const float* vectors, size_t n, const std::vector<std::string>& keys, bool replace, size_t threads,
                const PollFn& poll = nullptr, const AttributeBatch* attributes = nullptr);
  bool contains_key(const std::string& key) const;
  void get_keys(const std::vector<std::string>& keys, float* out) const;
  std::vector<AttributeRow> get_attributes_keys(const std::vector<std::string>& keys) const;
  void remove_keys(const std::vector<std::string>& keys);
  std::vector<std::string> keys() const;  // live keys, in slot order
  // search() and search_filtered() fill out_keys (when given) with the nq x k keys of their
  // results, "" where a short row is padded; out_ids then hold internal ids. Filters may hold
  // allow-lists of keys (FilterOp::allow_keys) only on an index with string keys.

  std::string integrity_error() const;
  IndexStats stats() const;
  MemoryUsage memory_usage() const;

 private:
  void check_vectors(const float* vectors, size_t n) const;
  // The shared body of add() and add_keys(): exactly one of ids (may be null: auto ids) and keys is used.
  std::vector<int64_t> add_rows(const float* vectors, size_t n, const int64_t* ids, const std::vector<std::string>* keys,
                                bool replace, size_t threads, const PollFn& poll, const AttributeBatch* attributes);
  // Under the exclusive lock: existing keys (unless replace). Throws InvalidArgument.
  void check_new_keys(const std::vector<std::string>& keys, bool replace) const;
  // Under the exclusive lock, after every check: the ids of keys, new keys taking new ids.
  std::vector<int64_t> assign_key_ids(const std::vector<std::string>& keys);
  // Under the lock: ids of keys that are in the index (live too when require_live). Throws
  // KeyNotFound listing the others.
  std::vector<int64_t> ids_of_keys(const std::vector<std::string>& keys, bool require_live) const;
  // Under the lock: out[i] = key of ids[i], "" for -1.
  void keys_of_ids(const int64_t* ids, size_t n, std::vector<std::string>& out) const;
  // Under the exclusive lock: forgets keys whose ids are neither mapped nor held by an add in flight.
  void forget_unused_keys();
  void remove_locked(const int64_t* ids, size_t n);
  void get_locked(const int64_t* ids, size_t n, float* out) const;
  std::vector<AttributeRow> get_attributes_locked(const int64_t* ids, size_t n) const;
  // Under the lock: the filter with its allow-lists of keys turned into allow-lists of ids
  // (other nodes shared), or null when it holds none. Refuses int allow-lists with string keys.
  FilterExprPtr resolve_key_filters(const FilterExpr& filter, size_t depth = 0) const;
  // One add() between reserving slots and publishing them (index_add.cpp).
  struct PendingAdd {
    std::vector<int64_t> ids;
    std::vector<uint32_t> slots;
    std::vector<uint8_t> replacing;  // 1: the id was live when reserved; swapped in on publish
    std::vector<uint8_t> linked;     // 1: the row's graph links are complete
    int64_t auto_id_before = 0;      // next_auto_id_ before and after the reservation
    int64_t auto_id_after = 0;
  };
  // Under the exclusive lock: existing ids (unless replace), auto-id overflow. Throws InvalidArgument.
  void check_new_ids(const int64_t* ids, size_t n, bool replace) const;
  // Under the exclusive lock, after the checks: slots, id map and attribute rows (ids null: auto ids).
  void reserve_rows(PendingAdd& pending, size_t n, const int64_t* ids, const AttributeBatch* attributes);
  // Under the exclusive lock, after linking: swaps replaced ids to their new slots and
  // forgets rows that were not linked (all rows of this add when keep_linked is false).
  void publish_rows(PendingAdd& pending, bool keep_linked);
  void retire_slot(uint32_t slot);  // not live, no id, no attributes (a tombstone if linked)
  // Copies and normalises (cosine) one row into out.
  void prepare_vector(const float* in, float* out) const;
  void ensure_capacity(size_t needed);
  // Walks run on the codes once trained; with full vectors kept and no codes yet, on those
  // (exact distances, nothing to rerank).
  bool walks_on_codes() const { return store_->is_trained() || !full_store_; }
  const VectorStore& walk_store() const { return walks_on_codes() ? *store_ : *full_store_; }
  bool trains_lazily() const { return full_store_ && store_->needs_training(); }
  // Under the exclusive lock, lazy training only: trains the codec when the index holds
  // enough rows, counting the `pending_count` rows an add is about to link (sampled from the
  // full vectors and `pending`), and encodes every linked slot. Returns false (still
  // untrained, searches stay exact) when the codec refuses the sample.
  bool train_from_full_vectors(const float* pending, size_t pending_count, size_t threads);
  // What an insert walks to find its candidates: with full vectors kept, the codes once
  // trained, if their walk finds what the full vectors' walk finds (walks_like_full_vectors);
  // links are still chosen on link_store(). nullptr: inserts walk link_store() itself.
  const VectorStore* insert_walk_store() const;
  // Under the exclusive lock, once the codec is trained: codes for every slot from its full vector.
  void encode_stored_rows(size_t threads);
  // The *_locked helpers expect structure_mutex_ held (shared or exclusive) by the caller.
  size_t deleted_count_locked() const;
  MemoryUsage memory_usage_locked() const;
  bool slot_live(uint32_t slot) const {
    return (__atomic_load_n(&live_bits_[slot >> 6], __ATOMIC_ACQUIRE) >> (slot & 63)) & 1;
  }
  void set_live(uint32_t slot, bool live);
  // Deleted or replaced, still in the graph, no add working on it: what compact() frees.
  bool is_tombstone(uint32_t slot) const {
    return graph_.contains(slot) && !slot_live(slot) && slot_to_id_[slot] < 0;
  }
  // Translates slots to ids into one result row, padding with -1 / +inf.
  void write_results(const std::vector<Neighbor>& found, size_t k, int64_t* out_ids, float* out_distances) const;
  // How many queries a batch search walks at once per thread (caller holds structure_mutex_):
  // kWalksInterleaved when the walk reads rows of at most kInterleavedRowBytes, else 1
  // (search_context.h says why). Also 1 when searches skip non-live slots (their walk keeps
  // two heaps, one query at a time) and for graph_codes, whose walk is its own.
  size_t interleaved_walks() const {
    const bool skips_slots = live_count_.load() != slot_count_;
    const bool small_rows = walk_store().bytes_per_vector() <= kInterleavedRowBytes;
    return small_rows && !skips_slots && !graph_codes_ready() ? kWalksInterleaved : 1;
  }
  // Searches `count` queries (rows of `queries`) together, one result row each; the graph
  // interleaves their walks when nothing is filtered.
  void search_group(const float* queries, size_t count, const SearchParams& params, int64_t* out_ids,
                    float* out_distances, const uint64_t* accept) const;
  static std::unique_ptr<Index> from_image(const uint8_t* data, size_t size, bool view);
  void require_writable(const char* operation) const;
  // Match bitmap of a filter over live slots; caller holds structure_mutex_ (shared).
  Bitmap match_bitmap(const FilterExpr& filter) const;
  void search_one_filtered(const float* query, const SearchParams& params, const Bitmap& matches,
                           const FilterPlan& plan, const std::vector<uint32_t>& slot_list, int64_t* out_ids,
                           float* out_distances) const;

  // graph_codes="rabitq" (index_graph_codes.cpp). All under the caller's lock: shared to read,
  // exclusive for the *blocks* writers.
  bool graph_codes_ready() const;
  bool block_stale(uint32_t slot, uint32_t* scratch) const;
  void rebuild_block(uint32_t slot, uint32_t* scratch);
  void rebuild_all_blocks(size_t threads);
  void reserve_graph_codes();  // codes and blocks for every slot the other stores hold
  void train_graph_codes(size_t threads);  // trains once enough rows are linked, then encodes and builds
  // Takes the locks itself: after an add's linking, rebuilds the blocks it made stale (or trains).
  void refresh_graph_codes(size_t threads);
  // search() once graph codes are trained, under its shared lock.
  void search_graph_codes(const float* queries, size_t nq, const SearchParams& params, int64_t* out_ids,
                          float* out_distances, const uint64_t* accept, const PollFn& poll) const;

  IndexConfig config_;
  std::unique_ptr<VectorStore> store_;
  std::unique_ptr<RabitqStore> graph_code_store_;        // graph_codes="rabitq" only
  std::unique_ptr<NeighborCodeBlocks> code_blocks_;      // graph_codes="rabitq" only
  std::unique_ptr<VectorStore> full_store_;  // only with rerank on a compressed dtype
  // The store whose distances link the graph. With full vectors kept (rerank=True), those:
  // on the Debian set an SQ8 graph linked on them searched with the same recall at every ef
  // as one linked on the codes, and built 1.8x faster (code-to-code distances decode both
  // codes). Inserts may still find their candidates on the codes (insert_walk_store()).
  // Every store links "ip" on raw inner products, like hnswlib, with the graph's dense-link
  // rule for ip; no store lifts ip to L2 (that lift lost recall on varied norms).
  const VectorStore& link_store() const { return full_store_ ? *full_store_ : *store_; }
  HnswGraph graph_;
  AttributeStore attributes_;  // written only under an exclusive structure_mutex_

  mutable std::shared_mutex structure_mutex_;
  std::unordered_map<int64_t, uint32_t> id_to_slot_;
  std::vector<int64_t> slot_to_id_;  // -1: free or deleted
  std::vector<uint64_t> live_bits_;
  std::vector<uint32_t> free_slots_;  // unlinked by compact(), reused by add()
  size_t slot_count_ = 0;   // slots handed out so far
  std::atomic<size_t> live_count_{0};
  int64_t next_auto_id_ = 0;
  KeyTable keys_;  // string keys <-> ids (config_.string_keys only); guarded like id_to_slot_
  std::atomic<size_t> ef_search_;
  mutable SearchContextPool search_contexts_;  // one per concurrent search, kept between searches
  // Slot count at which the next lazy training is tried; doubled when the codec refuses a sample.
  size_t lazy_training_at_ = 0;
  std::shared_ptr<const io::MappedFile> mapping_;  // set when loaded with mmap

  // Counts one add from reserving its slots to its end, so optimize() never renumbers slots an
  // add still holds (index_reorder.cpp). start() runs under the exclusive lock; the end
  // counts down under the shared lock, so optimize()'s check and wait cannot miss it.
  class AddInFlight {
   public:
    explicit AddInFlight(Index& index) : index_(index) {}
    AddInFlight(const AddInFlight&) = delete;
    AddInFlight& operator=(const AddInFlight&) = delete;
    void start();
    ~AddInFlight();

   private:
    Index& index_;
    bool started_ = false;
  };
  std::atomic<size_t> adds_in_flight_{0};
  std::condition_variable_any adds_settled_;
};

}  // namespace vecindex
