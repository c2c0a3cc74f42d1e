// Serialisation and validation of the graph. Loading trusts nothing: every count, level,
// neighbour id and the entry point are checked before the graph is used.
#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "graph/hnsw_graph.h"
#include "util/errors.h"

namespace vecindex {
namespace {

// Zero bytes after the int8 levels so the uint32 level-0 lists start 4-byte aligned (the
// 40-byte header keeps the section's 64-byte alignment), which lets a mapped load read them
// in place with atomic loads.
size_t levels_padding(size_t count) { return (4 - count % 4) % 4; }

}  // namespace

void HnswGraph::save(ByteWriter& out, size_t count) const {
  out.put<uint64_t>(M_);
  out.put<uint64_t>(ef_construction_);
  out.put<uint64_t>(seed_);
  out.put<uint64_t>(count);
  out.put<uint64_t>(entry_.load());
  out.put_array(levels_.data(), count);
  for (size_t i = 0; i < levels_padding(count); ++i) out.put<uint8_t>(0);
  out.put_array(level0_words(), count * (1 + M0_));
  for (size_t slot = 0; slot < count; ++slot)
    if (levels_[slot] > 0) out.put_array(upper_[slot].get(), size_t(levels_[slot]) * (1 + M_));
}

void HnswGraph::load(ByteReader& in, size_t count, bool view, bool padded) {
  const uint64_t M = in.get<uint64_t>();
  const uint64_t ef_construction = in.get<uint64_t>();
  const uint64_t seed = in.get<uint64_t>();
  const uint64_t stored = in.get<uint64_t>();
  const uint64_t entry = in.get<uint64_t>();
  if (M != M_ || ef_construction != ef_construction_ || seed != seed_)
    throw FormatError("graph parameters (M, ef_construction, seed) disagree with the header");
  if (stored != count) throw FormatError("graph holds " + std::to_string(stored) + " nodes, header says " + std::to_string(count));
  if (count > 0xFFFFFFF0u) throw FormatError("graph node count is out of range");
  // Check the size of the fixed part before allocating anything for it.
  if (count != 0 && in.remaining() / count < 1 + (1 + M0_) * sizeof(uint32_t))
    throw FormatError("graph section is truncated");

  std::vector<int8_t> levels = in.get_vector<int8_t>(count);
  int top_seen = -1;
  for (int8_t level : levels) {
    if (level < -1 || level > kMaxLevel) throw FormatError("graph node level " + std::to_string(level) + " is out of range");
    top_seen = std::max<int>(top_seen, level);
  }

  const size_t padding_bytes = padded ? levels_padding(count) : 0;
  const uint8_t* padding = in.take(padding_bytes);
  for (size_t i = 0; i < padding_bytes; ++i)
    if (padding[i] != 0) throw FormatError("graph padding after the levels is not zero");
  const size_t level0_bytes = count * (1 + M0_) * sizeof(uint32_t);
  const uint8_t* level0 = in.take(level0_bytes);
  // Viewed lists are validated below exactly where they will be read. A buffer that is not
  // 4-byte aligned (never the case for a mapped file) is copied instead.
  if (view && count != 0 && reinterpret_cast<uintptr_t>(level0) % alignof(uint32_t) == 0) {
    level0_view_ = reinterpret_cast<const uint32_t*>(level0);
    upper_.resize(count);
    levels_.resize(count);
    capacity_ = count;
  } else {
    reserve(std::max<size_t>(count, 1));
    if (level0_bytes != 0) std::memcpy(level0_.data(), level0, level0_bytes);
  }
  for (size_t slot = 0; slot < count; ++slot) {
    levels_[slot] = levels[slot];
    upper_[slot].reset();
    if (levels[slot] > 0) {
      size_t words = size_t(levels[slot]) * (1 + M_);
      if (in.remaining() / sizeof(uint32_t) < words) throw FormatError("graph upper levels are truncated");
      upper_[slot].reset(new uint32_t[words]);
      in.get_array(upper_[slot].get(), words);
    }
  }
  in.expect_end();

  if (entry == kEmptyEntry) {
    if (top_seen >= 0) throw FormatError("graph has nodes but no entry point");
  } else {
    uint64_t entry_slot = entry >> 8;
    int entry_level = int(entry & 0xFF);
    if (entry_slot >= count) throw FormatError("graph entry point is out of range");
    if (levels[entry_slot] != entry_level || entry_level != top_seen)
      throw FormatError("graph entry point is not on the top level");
  }

  // Read through the const accessor, which sees viewed level-0 lists (validated in place).
  const HnswGraph& graph = *this;
  std::vector<uint32_t> sorted_links;
  for (size_t slot = 0; slot < count; ++slot) {
    for (int level = 0; level <= levels[slot]; ++level) {
      const uint32_t* block = graph.links(uint32_t(slot), level);
      if (block[0] > max_degree(level)) throw FormatError("graph node has more links than its level allows");
      for (uint32_t i = 0; i < block[0]; ++i) {
        uint32_t target = block[1 + i];
        if (target >= count || levels[target] < level)
          throw FormatError("graph link points to a node that does not exist at that level");
        if (target == slot) throw FormatError("graph node links to itself");
      }
      // A repeated link would pass every check above yet break the integrity invariant.
      sorted_links.assign(block + 1, block + 1 + block[0]);
      std::sort(sorted_links.begin(), sorted_links.end());
      if (std::adjacent_find(sorted_links.begin(), sorted_links.end()) != sorted_links.end())
        throw FormatError("graph node lists the same link twice");
    }
    if (levels[slot] < 0 && graph.links(uint32_t(slot), 0)[0] != 0) throw FormatError("absent graph node has links");
  }
  entry_.store(entry);
}

std::string HnswGraph::integrity_error(size_t count) const {
  std::vector<uint32_t> seen;
  for (size_t slot = 0; slot < count && slot < capacity_; ++slot) {
    for (int level = 0; level <= levels_[slot]; ++level) {
      const uint32_t* block = links(uint32_t(slot), level);
      size_t degree = block[0];
      if (degree > max_degree(level)) return "node " + std::to_string(slot) + " has too many links";
      seen.assign(block + 1, block + 1 + degree);
      std::sort(seen.begin(), seen.end());
      if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
        return "node " + std::to_string(slot) + " has duplicate links at level " + std::to_string(level);
      for (uint32_t target : seen) {
        if (target == slot) return "node " + std::to_string(slot) + " links to itself";
        if (target >= count || levels_[target] < level)
          return "node " + std::to_string(slot) + " links to absent node " + std::to_string(target);
      }
    }
  }
  if (!empty()) {
    uint32_t entry = entry_point();
    if (entry >= count || levels_[entry] != max_level()) return "entry point is invalid";
  }
  return "";
}

}  // namespace vecindex
