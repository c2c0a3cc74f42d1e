// The quantized graph's level-0 blocks (graph_codes="rabitq", after SymphonyQG, SIGMOD 2025):
// each node keeps, in one contiguous block, its level-0 neighbour ids and those neighbours'
// RaBitQ codes (rabitq_store.h: 1-bit codes of the rotated residual from one global centroid)
// in the FastScan layout, plus their correction factors. A hop reads one block and estimates
// the distances to all of its neighbours with one fastscan32 pass per 32 neighbours.
//
// Block layout (one CodeArena row per slot, all sections 64-byte aligned):
//   header  u32: neighbour count in bits 0-30, bit 31 set once the block is built; then the
//           neighbour ids (max_degree of them)
//   codes   per batch of 32 neighbours, `groups` x 16 bytes: byte t of group g holds the 4 code
//           bits of dimensions 4g..4g+3 of neighbour t (low nibble) and t + 16 (high nibble)
//   factors per neighbour: rescale, offset (||x - c||^2 for l2, <x - c, c> otherwise), error_scale
// A block whose built bit is clear (a node linked by an add that has not finished) is walked
// from the graph's own list with exact distances instead.
//
// Blocks are derived data: they are rebuilt from the graph's lists and the code store, never
// saved. Writers (build) run only under the index's exclusive lock, so readers never see a
// block half written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "storage/code_arena.h"
#include "storage/rabitq_store.h"
#include "util/prefetch.h"

namespace vecindex {

class NeighborCodeBlocks {
 public:
  static constexpr size_t kBatch = 32;  // neighbours per fastscan32 pass
  static constexpr uint32_t kBuilt = 0x80000000u;

  NeighborCodeBlocks(size_t dim, size_t max_degree);

  size_t groups() const { return groups_; }
  size_t max_degree() const { return max_degree_; }
  size_t batches() const { return batches_; }
  size_t stride() const { return blocks_.stride(); }

  void reserve(size_t capacity) { blocks_.reserve(capacity); }
  size_t capacity() const { return blocks_.capacity(); }
  size_t memory_bytes() const { return blocks_.memory_bytes(); }

  // Writes the block of `slot` for these neighbours (count <= max_degree), from their codes.
  void build(uint32_t slot, const uint32_t* ids, size_t count, const RabitqStore& codes);
  // Marks a block unbuilt and empty (a node removed from the graph, or not linked yet).
  void clear(uint32_t slot) { header(slot)[0] = 0; }

  bool built(uint32_t slot) const { return header(slot)[0] & kBuilt; }
  size_t count(uint32_t slot) const { return header(slot)[0] & ~kBuilt; }
  const uint32_t* ids(uint32_t slot) const { return header(slot) + 1; }
  const uint8_t* packed(uint32_t slot, size_t batch) const {
    return blocks_.slot(slot) + codes_offset_ + batch * groups_ * 16;
  }
  // rescale, offset, error_scale: max_degree floats each.
  const float* factors(uint32_t slot) const {
    return reinterpret_cast<const float*>(blocks_.slot(slot) + factors_offset_);
  }
  // The ids, the first code lines and the first factors: the hardware prefetcher follows the
  // sequential code reads, and a popped node is often not expanded at all.
  void prefetch(uint32_t slot) const {
    const char* block = reinterpret_cast<const char*>(blocks_.slot(slot));
    prefetch_line(block);
    prefetch_line(block + codes_offset_);
    prefetch_line(block + codes_offset_ + 64);
    prefetch_line(block + factors_offset_);
  }

 private:
  uint32_t* header(uint32_t slot) { return reinterpret_cast<uint32_t*>(blocks_.slot(slot)); }
  const uint32_t* header(uint32_t slot) const { return reinterpret_cast<const uint32_t*>(blocks_.slot(slot)); }

  size_t dim_, max_degree_, groups_, batches_;
  size_t codes_offset_, factors_offset_;
  CodeArena blocks_;
};

// One query's view of the blocks: the rotated, centred query's 16-entry lookup tables,
// quantised to uint8, and the terms that turn a fastscan32 sum into a distance estimate.
//
// Error bound: the RaBitQ estimator's own term (kErrorConfidence standard deviations, as in
// rabitq_store.h) plus the tables' rounding. Each table entry is rounded to the grid `step_`,
// an error uniform in +-step/2 per group, so the sum over `groups` groups has standard
// deviation step * sqrt(groups / 12). Both terms count kWalkConfidence standard deviations,
// fewer than the rerank's 3 (rabitq_store.h): a bound that fails here only keeps the walk from
// one node it could have expanded, which the recall tests against the f32 walk would show;
// on the Debian set 1.9 (the RaBitQ paper's value) kept recall at every ef with 40% fewer
// exact distances than 3.
class NeighborCodeQuery {
 public:
  // `rotated` = codes.rotate_residual(query) (dim values), computed by the caller so a batch of
  // queries can share one pass over the rotation (RabitqStore::rotate_residuals).
  NeighborCodeQuery(const RabitqStore& codes, const NeighborCodeBlocks& blocks, const float* query,
                    const float* rotated);

  // Estimates and their bounds for every neighbour in the block of `slot` (out arrays hold
  // batches() * 32 entries; entries past count() are unspecified).
  void estimate(uint32_t slot, float* estimates, float* bounds) const;

  static constexpr float kWalkConfidence = 1.9f;

 private:
  const NeighborCodeBlocks& blocks_;
  const simd::CodecKernelTable& kernels_;
  Metric metric_;
  std::vector<uint8_t> tables_;  // groups x 16
  float step_ = 1, table_base_ = 0, query_sum_ = 0, inv_sqrt_dim_ = 1;
  float query_norm_ = 0, query_norm_sq_ = 0, rounding_bound_ = 0, query_center_dot_ = 0;
};

}  // namespace vecindex
