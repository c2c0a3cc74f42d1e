// The quantized graph (graph_codes="rabitq", graph/quantized_walk.h) at index level: training
// the codes, keeping the level-0 code blocks in step with the graph, and the search.
//
// Blocks are written only under the exclusive lock, so searches (shared lock) never read a
// block half written. An add links under the shared lock as usual, then finds the blocks its
// links made stale (a block is stale when its ids differ from the node's level-0 list) and
// rebuilds them under the exclusive lock. Every list change happens during some add's linking,
// and that add's scan starts after its linking ends, so no change is missed; a block rebuilt
// later than needed is only rebuilt from a newer list. Until then the walk reaches new nodes
// through unbuilt blocks, which it expands from the graph's own lists on exact distances.
#include <algorithm>
#include <mutex>

#include "graph/quantized_walk.h"
#include "index/index.h"

namespace vecindex {

bool Index::graph_codes_ready() const { return graph_code_store_ && graph_code_store_->is_trained(); }

bool Index::block_stale(uint32_t slot, uint32_t* scratch) const {
  if (!graph_.contains(slot)) return code_blocks_->built(slot);
  if (!code_blocks_->built(slot)) return true;
  const size_t count = graph_.neighbors(slot, 0, scratch);
  return count != code_blocks_->count(slot) || !std::equal(scratch, scratch + count, code_blocks_->ids(slot));
}

void Index::rebuild_block(uint32_t slot, uint32_t* scratch) {
  if (!graph_.contains(slot)) {
    code_blocks_->clear(slot);
    return;
  }
  const size_t count = graph_.neighbors(slot, 0, scratch);
  code_blocks_->build(slot, scratch, count, *graph_code_store_);
}

void Index::reserve_graph_codes() {
  const size_t capacity = std::max<size_t>({store_->capacity(), slot_count_, 1});
  graph_code_store_->reserve(capacity);
  code_blocks_->reserve(capacity);
}

void Index::rebuild_all_blocks(size_t threads) {
  if (!graph_codes_ready()) return;
  reserve_graph_codes();
  const size_t workers = std::max<size_t>(1, resolve_threads(threads, slot_count_));
  std::vector<uint32_t> lists(workers * graph_.max_degree0());
  parallel_for(slot_count_, workers, [&](size_t slot, size_t worker) {
    rebuild_block(uint32_t(slot), lists.data() + worker * graph_.max_degree0());
  });
}

void Index::train_graph_codes(size_t threads) {
  if (!graph_code_store_ || graph_code_store_->is_trained()) return;
  std::vector<uint32_t> linked;
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (graph_.contains(uint32_t(slot))) linked.push_back(uint32_t(slot));
  if (linked.size() < kGraphCodesTrainingRows) return;
  const size_t dim = config_.dim;
  const size_t sample = std::min(linked.size(), kLazyTrainingSample);
  std::vector<float> rows(sample * dim);
  for (size_t i = 0; i < sample; ++i) store_->decode(linked[i * linked.size() / sample], rows.data() + i * dim);
  graph_code_store_->train(rows.data(), sample, threads);  // f32 rows always train rabitq
  reserve_graph_codes();
  const size_t workers = std::max<size_t>(1, resolve_threads(threads, linked.size()));
  std::vector<float> buffers(workers * dim);
  parallel_for(linked.size(), workers, [&](size_t i, size_t worker) {
    float* row = buffers.data() + worker * dim;
    store_->decode(linked[i], row);
    graph_code_store_->set(linked[i], row);
  });
  rebuild_all_blocks(threads);
}

void Index::refresh_graph_codes(size_t threads) {
  if (!graph_code_store_) return;
  std::vector<uint32_t> stale;
  bool train_due = false;
  {
    std::shared_lock<std::shared_mutex> lock(structure_mutex_);
    if (!graph_code_store_->is_trained()) {
      train_due = slot_count_ >= kGraphCodesTrainingRows;
    } else {
      const size_t workers = std::max<size_t>(1, resolve_threads(threads, slot_count_));
      std::vector<uint32_t> lists(workers * graph_.max_degree0());
      std::vector<uint8_t> flags(slot_count_, 0);
      parallel_for(slot_count_, workers, [&](size_t slot, size_t worker) {
        flags[slot] = block_stale(uint32_t(slot), lists.data() + worker * graph_.max_degree0());
      });
      for (size_t slot = 0; slot < flags.size(); ++slot)
        if (flags[slot]) stale.push_back(uint32_t(slot));
    }
  }
  if (!train_due && stale.empty()) return;
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  if (train_due) {
    train_graph_codes(threads);
    return;
  }
  reserve_graph_codes();
  std::vector<uint32_t> list(graph_.max_degree0());
  for (uint32_t slot : stale) rebuild_block(slot, list.data());
}

void Index::search_graph_codes(const float* queries, size_t nq, const SearchParams& params, int64_t* out_ids,
                               float* out_distances, const uint64_t* accept, const PollFn& poll) const {
  // Queries go in chunks, so each chunk reads the rotation matrix (dim x dim floats, 576 KiB
  // at dim=384) once: rotating one query at a time cost more than its whole walk.
  constexpr size_t kChunk = 16;
  const size_t dim = config_.dim, k = params.k;
  const size_t ef = std::max(params.ef_or(ef_search_.load()), k);
  parallel_for((nq + kChunk - 1) / kChunk, params.threads, [&](size_t chunk, size_t) {
    const size_t first = chunk * kChunk, count = std::min(kChunk, nq - first);
    thread_local std::vector<float> prepared, rotated;
    prepared.resize(count * dim);
    rotated.resize(count * dim);
    for (size_t i = 0; i < count; ++i) prepare_vector(queries + (first + i) * dim, prepared.data() + i * dim);
    graph_code_store_->rotate_residuals(prepared.data(), count, rotated.data());
    auto context = graph_.borrow_context(search_contexts_);
    for (size_t i = 0; i < count; ++i) {
      if (i) context->prepare(graph_.capacity(), graph_.max_degree0());
      const float* query = prepared.data() + i * dim;
      auto exact = store_->query(query);
      NeighborCodeQuery estimates(*graph_code_store_, *code_blocks_, query, rotated.data() + i * dim);
      quantized_search(graph_, *code_blocks_, estimates, *exact, ef, accept, *context);
      write_results(context->found, k, out_ids + (first + i) * k, out_distances + (first + i) * k);
    }
  }, poll);
}

}  // namespace vecindex
