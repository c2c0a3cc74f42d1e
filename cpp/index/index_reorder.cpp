// Index::optimize: renumbers slots in a locality order (graph/hnsw_reorder.h). Every step that
// can fail (computing the order, copying the attributes and the id map) runs first, on copies;
// then the graph, the stores and the copies are switched in by steps that allocate nothing
// and cannot throw, so a failure leaves the index as it was.
#include <algorithm>
#include <mutex>

#include "index/index.h"

namespace vecindex {

void Index::AddInFlight::start() {
  ++index_.adds_in_flight_;
  started_ = true;
}

Index::AddInFlight::~AddInFlight() {
  if (!started_) return;
  {
    std::shared_lock<std::shared_mutex> lock(index_.structure_mutex_);
    --index_.adds_in_flight_;
  }
  index_.adds_settled_.notify_all();
}

size_t Index::optimize(ReorderMethod method) {
  require_writable("optimize");
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  // An add in flight holds slot numbers between its locked steps.
  adds_settled_.wait(lock, [&] { return adds_in_flight_.load() == 0; });

  const SlotPermutation permutation(locality_order(graph_, slot_count_, method));
  if (permutation.is_identity()) return 0;
  AttributeStore attributes = attributes_.permuted(permutation);
  std::vector<int64_t> slot_to_id = slot_to_id_;
  permutation.apply_to(slot_to_id);
  std::unordered_map<int64_t, uint32_t> id_to_slot;
  id_to_slot.reserve(id_to_slot_.size());
  for (const auto& [id, slot] : id_to_slot_) id_to_slot.emplace(id, permutation.new_slot(slot));
  std::vector<uint64_t> live_bits(live_bits_.size(), 0);
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (slot_live(uint32_t(slot))) {
      const uint32_t moved = permutation.new_slot(uint32_t(slot));
      live_bits[moved >> 6] |= uint64_t(1) << (moved & 63);
    }
  std::vector<uint32_t> free_slots = free_slots_;
  for (uint32_t& slot : free_slots) slot = permutation.new_slot(slot);
  std::sort(free_slots.begin(), free_slots.end(), std::greater<uint32_t>());  // lowest reused first, as in compact()

  // Nothing below allocates or throws: a read-only index was refused above, and the
  // permutation covers exactly the slots handed out, all within every part's capacity.
  graph_.permute(permutation);
  store_->permute(permutation);
  if (full_store_) full_store_->permute(permutation);
  if (graph_code_store_) graph_code_store_->permute(permutation);
  attributes_ = std::move(attributes);
  slot_to_id_.swap(slot_to_id);
  id_to_slot_.swap(id_to_slot);
  live_bits_.swap(live_bits);
  free_slots_.swap(free_slots);

  // graph_codes: blocks name neighbours by slot, so they are rebuilt from the renamed lists.
  // Only its scratch lists and worker threads could fail to allocate here; the blocks would
  // then still name valid slots, just not the renamed neighbours, until the next rebuild.
  rebuild_all_blocks(0);
  size_t moved = 0;
  for (size_t slot = 0; slot < permutation.size(); ++slot) moved += permutation.old_slot(uint32_t(slot)) != slot;
  return moved;
}

}  // namespace vecindex
