// Index::add in four steps: validate every row (nothing changes if that throws), reserve
// slots and ids under the exclusive lock, link in parallel under the shared lock, publish.
// Only allocation failures can throw once reserve_rows() has started.
//
// Publishing swaps a replaced id from its old slot to the new one under the exclusive lock,
// so a search sees the old or the new vector of that id, never neither and never both. New
// ids go live as soon as their links are complete. A stopped add keeps what it linked.
#include <algorithm>
#include <limits>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "index/id_list.h"
#include "index/index.h"
#include "util/errors.h"

namespace vecindex {
namespace {

// Checks that need no index state: negative and repeated ids.
void check_id_values(const int64_t* ids, size_t n) {
  std::vector<int64_t> negative, repeated;
  std::unordered_set<int64_t> batch;
  batch.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0) negative.push_back(ids[i]);
    else if (!batch.insert(ids[i]).second) repeated.push_back(ids[i]);
  }
  if (!negative.empty()) throw InvalidArgument("ids must be non-negative; got " + list_ids(negative));
  if (!repeated.empty()) throw InvalidArgument("ids repeat within one add(): " + list_ids(repeated));
}

void check_rows(const VectorStore& store, const float* rows, size_t n, size_t dim) {
  for (size_t i = 0; i < n; ++i) {
    try {
      store.check(rows + i * dim);
    } catch (const InvalidArgument& error) {
      throw InvalidArgument("row " + std::to_string(i) + ": " + error.what() + "; nothing was added");
    }
  }
}

// Below this many floats an add prepares its rows on the calling thread.
constexpr size_t kSerialPrepareFloats = size_t(1) << 16;

std::string cancelled_message(size_t kept, size_t requested) {
  return std::to_string(kept) + " of " + std::to_string(requested) +
         " vectors were linked and stay in the index; the rest were not added";
}

}  // namespace

AddCancelled::AddCancelled(std::vector<int64_t> kept, size_t requested)
    : Cancelled(cancelled_message(kept.size(), requested)), added_ids(std::move(kept)) {}

std::vector<int64_t> Index::add(const float* vectors, size_t n, const int64_t* ids, bool replace, size_t threads,
                                const PollFn& poll, const AttributeBatch* attributes) {
  if (config_.string_keys) throw InvalidArgument("this index has string keys (keys='str'): add() needs a str key per vector");
  return add_rows(vectors, n, ids, nullptr, replace, threads, poll, attributes);
}

std::vector<int64_t> Index::add_rows(const float* vectors, size_t n, const int64_t* ids,
                                     const std::vector<std::string>* keys, bool replace, size_t threads,
                                     const PollFn& poll, const AttributeBatch* attributes) {
  require_writable("add");
  if (n == 0) return {};
  // 1. Validate.
  if (attributes) {
    if (attributes->rows() != n)
      throw InvalidArgument("got attributes for " + std::to_string(attributes->rows()) + " rows and " +
                            std::to_string(n) + " vectors");
    if (!attributes->fits(attributes_)) throw InvalidArgument("attributes do not follow this index's attribute schema");
  }
  check_vectors(vectors, n);
  if (ids) check_id_values(ids, n);
  const size_t dim = config_.dim;
  // Uninitialised and filled on every thread: zeroing it first, and its first-touch page
  // faults, were a serial part of a bulk build.
  std::unique_ptr<float[]> prepared_rows(new float[n * dim]);
  float* const prepared = prepared_rows.get();
  // Preparing a row is a pass over it, far less than starting a thread: a small add (a few
  // rows from a LangChain or LlamaIndex store) stays on this thread.
  const size_t prepare_threads = n * dim < kSerialPrepareFloats ? 1 : threads;
  parallel_for(n, prepare_threads, [&](size_t i, size_t) { prepare_vector(vectors + i * dim, prepared + i * dim); });

  // Rows are checked against the codec as it is; an untrained one is trained on them below.
  bool checked = false;
  {
    std::shared_lock<std::shared_mutex> lock(structure_mutex_);  // train() may not change the codec meanwhile
    if (store_->is_trained()) {
      check_rows(*store_, prepared, n, dim);
      checked = true;
    } else if (!trains_lazily() && n < store_->min_training_size()) {
      throw InvalidArgument("dtype '" + store_->dtype() + "' must be trained first: call train() with at least " +
                            std::to_string(store_->min_training_size()) + " vectors, or add that many at once (got " +
                            std::to_string(n) + ")");
    }
    if (full_store_) check_rows(*full_store_, prepared, n, dim);
  }

  // 2. Reserve slots and ids.
  PendingAdd pending;
  AddInFlight in_flight(*this);
  {
    std::unique_lock<std::shared_mutex> lock(structure_mutex_);
    if (keys) check_new_keys(*keys, replace);
    else check_new_ids(ids, n, replace);
    ensure_capacity(slot_count_ + (n > free_slots_.size() ? n - free_slots_.size() : 0));
    // Training keeps the old codec state if it throws. The codecs that train accept every
    // checked row (their check() is the default), so the check after it cannot fail.
    // With full vectors kept the codec waits for enough rows instead (train_from_full_vectors).
    if (!store_->is_trained() && !trains_lazily()) store_->train(prepared, n, threads);
    // A lazy codec trains before the add that reaches its threshold links, not after it, so
    // that add's inserts already walk the codes (insert_walk_store()).
    train_from_full_vectors(prepared, n, threads);
    // train() may have changed the codec after the check above: it runs until the first slot
    // is handed out, or (lazily) after any add.
    if (store_->is_trained() && (!checked || slot_count_ == 0 || trains_lazily()))
      check_rows(*store_, prepared, n, dim);
    std::vector<int64_t> key_ids;
    if (keys) key_ids = assign_key_ids(*keys);
    reserve_rows(pending, n, keys ? key_ids.data() : ids, attributes);
    in_flight.start();
  }

  // 3. Link. Stores and graph accept any row that passed the checks above, so only a stop
  // (Ctrl-C, a progress callback) or running out of memory ends this early.
  bool cancelled = false;
  std::exception_ptr failure;
  try {
    std::shared_lock<std::shared_mutex> lock(structure_mutex_);
    const VectorStore& build_store = link_store();
    const VectorStore* insert_walk = insert_walk_store();
    parallel_for(n, threads, [&](size_t i, size_t) {
      const uint32_t slot = pending.slots[i];
      const float* row = prepared + i * dim;
      // A lazily trained codec is trained under the exclusive lock, so this holds for the whole
      // walk; rows linked before it are encoded by the training itself.
      if (store_->is_trained()) store_->set(slot, row);
      if (full_store_) full_store_->set(slot, row);
      if (graph_codes_ready()) graph_code_store_->set(slot, row);  // before any block can name it
      graph_.insert(slot, row, build_store, insert_walk);
      pending.linked[i] = 1;
      // A delete (or replace) that ran before this point already took the id away: the node
      // stays in the graph as a tombstone instead of going live with no id.
      if (!pending.replacing[i] && slot_to_id_[slot] == pending.ids[i]) set_live(slot, true);
    }, poll);
  } catch (const Cancelled&) {
    cancelled = true;
  } catch (...) {
    failure = std::current_exception();
  }

  // 4. Publish.
  const bool any_replacing = std::find(pending.replacing.begin(), pending.replacing.end(), 1) != pending.replacing.end();
  if (cancelled || failure || any_replacing) {
    std::unique_lock<std::shared_mutex> lock(structure_mutex_);
    publish_rows(pending, /*keep_linked=*/!failure);
  }
  if (failure) std::rethrow_exception(failure);
  if (trains_lazily()) {
    // Checked under the shared lock first: once trained, an add must not wait for every
    // search in flight just to learn there is nothing to do.
    bool due;
    {
      std::shared_lock<std::shared_mutex> lock(structure_mutex_);
      due = !store_->is_trained() && slot_count_ >= lazy_training_at_;
    }
    if (due) {
      std::unique_lock<std::shared_mutex> lock(structure_mutex_);
      train_from_full_vectors(nullptr, 0, threads);
    }
  }
  // Before AddInFlight ends, so optimize() cannot renumber slots between the scan and the rebuild.
  refresh_graph_codes(threads);
  if (cancelled) {
    std::vector<int64_t> kept;
    std::vector<std::string> kept_keys;
    for (size_t i = 0; i < n; ++i) {
      if (!pending.linked[i]) continue;
      if (keys) kept_keys.push_back((*keys)[i]);
      else kept.push_back(pending.ids[i]);
    }
    AddCancelled stopped(std::move(kept), n);
    stopped.keyed = keys != nullptr;
    stopped.added_keys = std::move(kept_keys);
    throw stopped;
  }
  return pending.ids;
}

void Index::check_new_ids(const int64_t* ids, size_t n, bool replace) const {
  if (!ids) {
    if (next_auto_id_ > std::numeric_limits<int64_t>::max() - int64_t(n)) throw InvalidArgument("automatic ids overflow int64");
    return;
  }
  std::vector<int64_t> existing;
  if (!replace)
    for (size_t i = 0; i < n; ++i)
      if (id_to_slot_.count(ids[i])) existing.push_back(ids[i]);
  if (!existing.empty())
    throw InvalidArgument("ids already in the index: " + list_ids(existing) + " (pass replace=True to overwrite)");
}

void Index::reserve_rows(PendingAdd& pending, size_t n, const int64_t* ids, const AttributeBatch* attributes) {
  pending.ids.resize(n);
  for (size_t i = 0; i < n; ++i) pending.ids[i] = ids ? ids[i] : next_auto_id_ + int64_t(i);
  pending.slots.resize(n);
  pending.replacing.assign(n, 0);
  pending.linked.assign(n, 0);
  pending.auto_id_before = next_auto_id_;
  for (size_t i = 0; i < n; ++i) {
    const int64_t id = pending.ids[i];
    uint32_t slot;
    if (!free_slots_.empty()) {
      slot = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot = uint32_t(slot_count_++);
    }
    pending.slots[i] = slot;
    slot_to_id_[slot] = id;
    auto found = id_to_slot_.find(id);
    if (found != id_to_slot_.end()) {
      // Replace: the id keeps its old slot until publish_rows() swaps it. Without new
      // attributes the new slot inherits the old row.
      pending.replacing[i] = 1;
      if (!attributes) attributes_.set_row(slot, attributes_.get_row(found->second));
    } else {
      id_to_slot_[id] = slot;
      if (!attributes) attributes_.set_row(slot);
    }
    // Saturates: id INT64_MAX must not overflow (auto ids then report exhaustion).
    next_auto_id_ = std::max(next_auto_id_, id == std::numeric_limits<int64_t>::max() ? id : id + 1);
  }
  pending.auto_id_after = next_auto_id_;
  // Rows are written before the vectors go live, so a search never sees one without the other.
  if (attributes) attributes->write(attributes_, pending.slots.data());
}

void Index::retire_slot(uint32_t slot) {
  set_live(slot, false);
  slot_to_id_[slot] = -1;
  attributes_.clear_row(slot);
}

void Index::publish_rows(PendingAdd& pending, bool keep_linked) {
  int64_t largest_kept = -1;
  for (size_t i = 0; i < pending.ids.size(); ++i) {
    const int64_t id = pending.ids[i];
    const uint32_t slot = pending.slots[i];
    const bool ours = slot_to_id_[slot] == id;  // false once a later replace or delete took it
    if (pending.linked[i] && keep_linked) {
      largest_kept = std::max(largest_kept, id);
      if (!pending.replacing[i] || !ours) continue;
      // The id may have been deleted meanwhile: then this replace adds it back (it came last).
      auto found = id_to_slot_.find(id);
      if (found != id_to_slot_.end()) retire_slot(found->second);
      id_to_slot_[id] = slot;
      set_live(slot, true);
      continue;
    }
    // Not kept: a linked row stays in the graph as a tombstone, an unlinked slot is reused.
    if (ours) {
      auto found = id_to_slot_.find(id);
      if (found != id_to_slot_.end() && found->second == slot) id_to_slot_.erase(found);
      retire_slot(slot);
    }
    if (!graph_.contains(slot)) free_slots_.push_back(slot);
  }
  // Ids of rows not added are not used up, unless a later add has already moved past them.
  // With string keys the ids are internal and their keys still name them until compact():
  // handing them out again would give two keys one id.
  if (!config_.string_keys && next_auto_id_ == pending.auto_id_after) {
    const int64_t after_kept = largest_kept == std::numeric_limits<int64_t>::max() ? largest_kept : largest_kept + 1;
    next_auto_id_ = std::max(pending.auto_id_before, after_kept);
  }
}

}  // namespace vecindex
