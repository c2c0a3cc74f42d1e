// Index <-> file image. Sections: META (configuration and counts), IDS_ (slot ids and live
// bits), GRPH (links), VECS (codes; empty for a codec that was never trained, which holds no
// vectors unless FULL holds them: an index that trains lazily, see Index::kLazyTrainingRows),
// FULL (full vectors for reranking, optional), ATTR (attribute columns; optional,
// absent means no attributes), KEYS (string keys of the live vectors, key_table.h; present
// exactly for an index with keys="str", whose internal ids a load renumbers 0..live-1),
// QGRF (graph_codes="rabitq": the RaBitQ code store the level-0 code blocks are built from,
// empty until it is trained; present exactly for such an index. The blocks themselves are
// derived data, rebuilt on load, so they can never disagree with the saved links).
//
// QGRF needed no new format version: a build that predates it ignores the section and loads
// the file as the plain f32 index it also is (same links, same vectors, same results).
//
// Format version: an untrained codec beside rows needed no new field (an empty VECS with a
// FULL section says it), so such files are still written as version 2 and every older file
// loads as before. A build from before lazy training refuses them with a FormatError (empty
// VECS with vectors declared) instead of misreading them.
//
// Loading allocates only what the file pays for: every section's length is checked against
// count x its per-slot size before anything is reserved, and the arenas are sized to the count.
// A mapped load reserves nothing for the vectors and level-0 links it views in place.
#include <algorithm>
#include <limits>
#include <mutex>

#include "index/index.h"
#include "io/container.h"
#include "util/errors.h"

namespace vecindex {
namespace {

constexpr uint32_t kMeta = io::make_tag("META");
constexpr uint32_t kIds = io::make_tag("IDS_");
constexpr uint32_t kGraph = io::make_tag("GRPH");
constexpr uint32_t kVectors = io::make_tag("VECS");
constexpr uint32_t kFull = io::make_tag("FULL");
constexpr uint32_t kAttributes = io::make_tag("ATTR");
constexpr uint32_t kKeys = io::make_tag("KEYS");
constexpr uint32_t kGraphCodes = io::make_tag("QGRF");

const io::SectionView& require(const std::map<uint32_t, io::SectionView>& sections, uint32_t tag) {
  auto found = sections.find(tag);
  if (found == sections.end()) throw FormatError("file has no '" + io::tag_name(tag) + "' section");
  return found->second;
}

// A section must hold `count` slots of at least `stride` bytes each.
void require_room(const io::SectionView& view, uint32_t tag, uint64_t count, uint64_t stride) {
  if (stride != 0 && count > view.size / stride)
    throw FormatError("'" + io::tag_name(tag) + "' section (" + std::to_string(view.size) + " bytes) is too short for " +
                      std::to_string(count) + " vectors");
}

}  // namespace

std::vector<uint8_t> Index::to_bytes() const {
  // Exclusive: an add in flight holds the lock shared, so a snapshot never sees half an add.
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  const size_t count = slot_count_;
  ByteWriter meta;
  meta.put<uint64_t>(config_.dim);
  meta.put<uint32_t>(uint32_t(config_.metric));
  meta.put_string(config_.dtype);
  meta.put<uint64_t>(config_.M);
  meta.put<uint64_t>(config_.ef_construction);
  meta.put<uint64_t>(ef_search_.load());
  meta.put<uint64_t>(config_.seed);
  meta.put<uint64_t>(config_.store.pq_m);
  meta.put<uint64_t>(config_.store.seed);
  meta.put<uint8_t>(config_.rerank ? 1 : 0);
  meta.put<uint64_t>(count);
  meta.put<uint64_t>(live_count_.load());
  meta.put<int64_t>(next_auto_id_);

  ByteWriter ids;
  // An add between its two phases has ids assigned to slots that are not live yet; the
  // snapshot leaves them out (as if that add had not started), so the file stays consistent.
  std::vector<int64_t> snapshot_ids(slot_to_id_.begin(), slot_to_id_.begin() + count);
  std::vector<uint32_t> in_flight;
  for (size_t slot = 0; slot < count; ++slot) {
    if (slot_live(uint32_t(slot))) continue;
    if (snapshot_ids[slot] >= 0) in_flight.push_back(uint32_t(slot));
    snapshot_ids[slot] = -1;
  }
  ids.put_array(snapshot_ids.data(), count);
  ids.put_array(live_bits_.data(), (count + 63) / 64);

  ByteWriter graph, vectors, full;
  graph_.save(graph, count);
  // An untrained codec has no parameters and no codes: its section stays empty. Only an index
  // that trains lazily (full vectors kept) holds rows before that; they are all in FULL.
  if (store_->is_trained() || (count != 0 && !full_store_)) store_->save(vectors, count);
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> sections;
  sections.emplace_back(kMeta, meta.take());
  sections.emplace_back(kIds, ids.take());
  sections.emplace_back(kGraph, graph.take());
  sections.emplace_back(kVectors, vectors.take());
  if (full_store_) {
    full_store_->save(full, count);
    sections.emplace_back(kFull, full.take());
  }
  if (!attributes_.schema().empty()) {
    ByteWriter attributes;
    if (in_flight.empty()) {
      attributes_.save(attributes);
    } else {  // rare: copy, so the in-flight rows are left out as their ids are
      AttributeStore snapshot = attributes_;
      for (uint32_t slot : in_flight) snapshot.clear_row(slot);
      snapshot.save(attributes);
    }
    sections.emplace_back(kAttributes, attributes.take());
  }
  if (graph_code_store_) {
    ByteWriter codes;
    if (graph_code_store_->is_trained()) graph_code_store_->save(codes, count);
    sections.emplace_back(kGraphCodes, codes.take());
  }
  if (config_.string_keys) {
    std::vector<const std::string*> live_keys;
    live_keys.reserve(live_count_.load());
    for (size_t slot = 0; slot < count; ++slot)
      if (snapshot_ids[slot] >= 0) live_keys.push_back(&keys_.key_of(snapshot_ids[slot]));
    ByteWriter keys;
    save_keys(keys, live_keys);
    sections.emplace_back(kKeys, keys.take());
  }
  return io::build_container(sections, config_.string_keys ? io::kStringKeysVersion : io::kBaseWriteVersion);
}

std::unique_ptr<Index> Index::from_bytes(const uint8_t* data, size_t size) { return from_image(data, size, false); }

std::unique_ptr<Index> Index::from_image(const uint8_t* data, size_t size, bool view) {
  auto sections = io::parse_container(data, size);
  const io::SectionView& meta_view = require(sections, kMeta);
  ByteReader meta(meta_view.data, meta_view.size, "META section");
  IndexConfig config;
  config.dim = meta.get<uint64_t>();
  uint32_t metric = meta.get<uint32_t>();
  if (metric > uint32_t(Metric::cosine)) throw FormatError("unknown metric code " + std::to_string(metric));
  config.metric = Metric(metric);
  config.dtype = meta.get_string(64);
  // The name ends up in error messages, which Python decodes as UTF-8: allow printable ASCII only.
  for (char c : config.dtype)
    if (c < 0x20 || c > 0x7E) throw FormatError("file names a dtype that is not printable text");
  config.M = meta.get<uint64_t>();
  config.ef_construction = meta.get<uint64_t>();
  config.ef_search = meta.get<uint64_t>();
  config.seed = meta.get<uint64_t>();
  config.store.pq_m = meta.get<uint64_t>();
  config.store.seed = meta.get<uint64_t>();
  config.rerank = meta.get<uint8_t>() != 0;
  auto attributes_section = sections.find(kAttributes);
  AttributeStore attributes;
  if (attributes_section != sections.end()) {
    ByteReader reader(attributes_section->second.data, attributes_section->second.size, "ATTR section");
    attributes = AttributeStore::load(reader);
    reader.expect_end();
    config.attributes = attributes.schema();
  }
  auto keys_section = sections.find(kKeys);
  config.string_keys = keys_section != sections.end();
  auto graph_codes_section = sections.find(kGraphCodes);
  if (graph_codes_section != sections.end()) config.graph_codes = "rabitq";
  // The writer uses version 3 exactly when it writes string keys, so any other pairing is damage.
  if (config.string_keys != (io::format_version(data) >= io::kStringKeysVersion))
    throw FormatError(config.string_keys
                          ? "'KEYS' section in a format version " + std::to_string(io::format_version(data)) +
                                " file (string keys need version " + std::to_string(io::kStringKeysVersion) + ")"
                          : "format version " + std::to_string(io::format_version(data)) +
                                " file without the 'KEYS' section that version is written for");
  std::unique_ptr<Index> index;
  try {
    index = std::make_unique<Index>(config);
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string("file holds an invalid configuration: ") + e.what());
  }
  const uint64_t count = meta.get<uint64_t>();
  const uint64_t live = meta.get<uint64_t>();
  const int64_t next_auto_id = meta.get<int64_t>();
  meta.expect_end();
  if (count > 0xFFFFFFF0ull || live > count) throw FormatError("file declares impossible vector counts");
  if (next_auto_id < 0) throw FormatError("file declares a negative next id");

  // Every section must hold `count` slots before anything is reserved for them (the graph
  // checks its own section the same way in HnswGraph::load, before it reserves).
  const io::SectionView& ids_view = require(sections, kIds);
  const io::SectionView& graph_view = require(sections, kGraph);
  const io::SectionView& vectors_view = require(sections, kVectors);
  const size_t words = (count + 63) / 64;
  if (ids_view.size != count * sizeof(int64_t) + words * sizeof(uint64_t))
    throw FormatError("'IDS_' section (" + std::to_string(ids_view.size) + " bytes) does not hold the ids of " +
                      std::to_string(count) + " vectors");
  const bool untrained = vectors_view.size == 0 && index->store_->needs_training();
  if (untrained && count != 0 && !index->full_store_)
    throw FormatError("'VECS' section is empty but the file declares vectors");
  if (!untrained) require_room(vectors_view, kVectors, count, index->store_->bytes_per_vector());
  const io::SectionView* full_view = nullptr;
  if (index->full_store_) {
    full_view = &require(sections, kFull);
    require_room(*full_view, kFull, count, index->full_store_->bytes_per_vector());
  }
  // Rows exist for every slot a file was saved with, so a store smaller than the count is
  // damage (and would be grown column by column below, unpaid for by the file).
  if (attributes_section != sections.end() && attributes.slot_count() < count)
    throw FormatError("attribute rows cover " + std::to_string(attributes.slot_count()) + " slots, the file has " +
                      std::to_string(count));

  const size_t capacity = std::max<size_t>(count, 1);
  index->slot_to_id_.assign(capacity, -1);
  index->live_bits_.assign((capacity + 63) / 64, 0);
  ByteReader ids(ids_view.data, ids_view.size, "IDS_ section");
  ids.get_array(index->slot_to_id_.data(), count);
  ids.get_array(index->live_bits_.data(), words);
  ids.expect_end();

  ByteReader graph(graph_view.data, graph_view.size, "GRPH section");
  index->graph_.load(graph, count, view, io::format_version(data) >= 2);
  if (!untrained) {
    ByteReader vectors(vectors_view.data, vectors_view.size, "VECS section");
    if (view) index->store_->load_view(vectors, count);
    else index->store_->load(vectors, count);
    vectors.expect_end();
  }
  if (full_view) {
    ByteReader full(full_view->data, full_view->size, "FULL section");
    if (view) index->full_store_->load_view(full, count);
    else index->full_store_->load(full, count);
    full.expect_end();
  }

  size_t live_seen = 0;
  for (size_t slot = 0; slot < count; ++slot) {
    int64_t id = index->slot_to_id_[slot];
    bool is_live = index->slot_live(uint32_t(slot));
    if (id < -1) throw FormatError("slot " + std::to_string(slot) + " has an invalid id");
    if (is_live != (id >= 0)) throw FormatError("slot " + std::to_string(slot) + " has inconsistent id and live flag");
    if (!is_live) {
      if (!index->graph_.contains(uint32_t(slot))) index->free_slots_.push_back(uint32_t(slot));
      continue;
    }
    if (!index->graph_.contains(uint32_t(slot))) throw FormatError("live slot " + std::to_string(slot) + " is not in the graph");
    // next_auto_id saturates at INT64_MAX, so the largest id may equal it.
    if (id >= next_auto_id && !(id == std::numeric_limits<int64_t>::max() && next_auto_id == id))
      throw FormatError("an id is not below the stored next id");
    if (!index->id_to_slot_.emplace(id, uint32_t(slot)).second) throw FormatError("id " + std::to_string(id) + " appears twice");
    ++live_seen;
  }
  // Bits past the last slot must be clear, or the live count would drift.
  for (size_t slot = count; slot < ((count + 63) / 64) * 64; ++slot)
    if (index->slot_live(uint32_t(slot))) throw FormatError("live flag set beyond the last slot");
  if (live_seen != live) throw FormatError("live vector count disagrees with the id table");
  std::reverse(index->free_slots_.begin(), index->free_slots_.end());
  int64_t next_id = next_auto_id;
  if (keys_section != sections.end()) {
    ByteReader reader(keys_section->second.data, keys_section->second.size, "KEYS section");
    std::vector<std::string> keys = load_keys(reader, live);
    reader.expect_end();
    // Internal ids are not part of the API: renumbering keeps the key table dense.
    index->id_to_slot_.clear();
    next_id = 0;
    for (size_t slot = 0; slot < count; ++slot) {
      if (!index->slot_live(uint32_t(slot))) continue;
      index->slot_to_id_[slot] = next_id;
      index->id_to_slot_.emplace(next_id, uint32_t(slot));
      index->keys_.insert(std::move(keys[size_t(next_id)]), next_id);
      ++next_id;
    }
  }
  if (attributes_section != sections.end()) {
    // Attribute rows must exist exactly for the live vectors.
    for (size_t slot = 0; slot < std::max(count, attributes.slot_count()); ++slot) {
      bool vector_live = slot < count && index->slot_live(uint32_t(slot));
      if (attributes.live().test(uint32_t(slot)) != vector_live)
        throw FormatError("attribute rows disagree with the live vectors at slot " + std::to_string(slot));
    }
    attributes.resize(capacity);
    index->attributes_ = std::move(attributes);
  } else {
    index->attributes_.resize(capacity);
    for (size_t slot = 0; slot < count; ++slot)
      if (index->slot_live(uint32_t(slot))) index->attributes_.set_row(uint32_t(slot));
  }
  index->slot_count_ = count;
  index->live_count_ = live;
  index->next_auto_id_ = next_id;
  if (graph_codes_section != sections.end()) {
    index->reserve_graph_codes();
    if (graph_codes_section->second.size != 0) {
      ByteReader codes(graph_codes_section->second.data, graph_codes_section->second.size, "QGRF section");
      index->graph_code_store_->load(codes, count);
      codes.expect_end();
      index->reserve_graph_codes();
      index->rebuild_all_blocks(0);
    } else {
      index->train_graph_codes(0);  // saved before enough rows were linked, or between an add and its training
    }
  }
  return index;
}

void Index::save(const std::string& path) const { io::write_file_atomically(path, to_bytes()); }

std::unique_ptr<Index> Index::load(const std::string& path, bool mmap) {
  if (!mmap) {
    std::vector<uint8_t> bytes = io::read_file(path);
    return from_bytes(bytes.data(), bytes.size());
  }
  auto mapping = std::make_shared<const io::MappedFile>(path);
  std::unique_ptr<Index> index = from_image(mapping->data(), mapping->size(), true);
  index->mapping_ = std::move(mapping);
  return index;
}

size_t Index::mapped_bytes() const { return mapping_ ? mapping_->size() : 0; }

void Index::require_writable(const char* operation) const {
  if (mapping_)
    throw StateError(std::string(operation) +
                     "() is not allowed: this index is a read-only memory map; load it with mmap=False to modify it");
}

}  // namespace vecindex
