// Vector storage: encodes vectors into a dtype's codes and hands out per-query distance
// computers. The graph never sees dtypes; it only asks a QueryDistance for distances.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/slot_permutation.h"
#include "util/bytes.h"

namespace vecindex {

// Metrics as seen by users. Cosine vectors are normalised before they reach a store,
// so a store only needs to know "l2" or "ip"-like scoring; it reports distances in the
// user's convention: l2 -> squared L2, ip -> -dot, cosine -> 1 - dot.
enum class Metric : int { l2 = 0, ip = 1, cosine = 2 };

// Largest squared norm accepted for l2/ip vectors and queries: float32 distances between such
// vectors stay finite (|a-b|^2 <= 4e36, |a.b| <= 1e36), so no inf or NaN can scramble results.
constexpr double kMaxSquaredNorm = 1e36;

Metric parse_metric(const std::string& name);  // throws InvalidArgument
std::string metric_name(Metric metric);

// Distances from one query (preprocessed once, e.g. a PQ lookup table) to stored vectors.
// Not thread-safe: make one per query and per thread.
class QueryDistance {
 public:
  virtual ~QueryDistance() = default;
  virtual float distance(uint32_t slot) const = 0;
  // Distances to several slots; implementations prefetch ahead and may batch the kernel.
  virtual void distances(const uint32_t* slots, size_t count, float* out) const {
    for (size_t i = 0; i < count; ++i) out[i] = distance(slots[i]);
  }
  virtual void prefetch(uint32_t slot) const {}
  // Standard deviation of (estimate - exact distance) for this query over stored vectors, for
  // an estimator whose error has a model that holds for every row; 0 when it is exact or has
  // no such model. Reranking re-scores past its fixed count while estimates lie within a few
  // spreads of the k-th exact distance.
  virtual float error_spread() const { return 0; }
};

class VectorStore {
 public:
  virtual ~VectorStore() = default;

  virtual size_t dim() const = 0;
  virtual Metric metric() const = 0;
  virtual std::string dtype() const = 0;           // "f32", "f16", "bf16", "sq8", "sq4", "pq", "rabitq"
  virtual size_t bytes_per_vector() const = 0;     // bytes of codes per slot (incl. per-vector factors)

  // Codecs with learned parameters (sq8, pq, rabitq) need training before set().
  virtual bool needs_training() const { return false; }
  virtual bool is_trained() const { return true; }
  virtual size_t min_training_size() const { return 0; }
  virtual void train(const float* vectors, size_t count, size_t threads) {}

  // Capacity in slots; growing keeps existing codes. Not safe concurrently with readers:
  // the index serialises growth against searches.
  virtual void reserve(size_t capacity) = 0;
  virtual size_t capacity() const = 0;

  // Throws InvalidArgument when set() could not store `vector` faithfully (a value outside
  // the dtype's range). add() checks every row with it before changing anything. Rows that
  // passed the index's own checks (finite, squared norm <= kMaxSquaredNorm, or normalised
  // for cosine) always encode to finite codes in f32, sq8/sq4 (values clamp to the trained
  // range), pq (nearest centroid) and rabitq (residual factors stay far below float's
  // range), so those keep this default; the half-float stores override it.
  virtual void check(const float* vector) const {}
  // Encode one vector (already normalised for cosine, and check()-ed) into a slot below capacity().
  virtual void set(uint32_t slot, const float* vector) = 0;
  // Approximate reconstruction (exact for f32).
  virtual void decode(uint32_t slot, float* out) const = 0;

  virtual std::unique_ptr<QueryDistance> query(const float* vector) const = 0;
  // Distance between two stored slots, used while building the graph.
  virtual float distance_between(uint32_t a, uint32_t b) const = 0;

  // Distances used while building the graph: the search distance in every store. "ip" links
  // on raw inner products (the graph keeps its links dense instead, see hnsw_graph.cpp); an
  // f32 MIPS-to-L2 lift used here before lost recall to hnswlib on data with varied norms.
  virtual std::unique_ptr<QueryDistance> build_query(uint32_t slot, const float* vector) const { return query(vector); }
  virtual float build_distance(uint32_t a, uint32_t b) const { return distance_between(a, b); }
  // True when a walk on these codes finds the candidates a walk on the full vectors finds, so
  // an index that keeps full vectors may let its inserts walk the codes (links are still
  // chosen on the full vectors). On the Debian set sq8, f16 and bf16 kept recall at every ef
  // that way; sq4, pq and rabitq lost up to 0.3 points, so they keep the default.
  virtual bool walks_like_full_vectors() const { return false; }

  // Serialise the first `count` slots plus codec parameters; load() validates everything.
  virtual void save(ByteWriter& out, size_t count) const = 0;
  virtual void load(ByteReader& in, size_t count) = 0;
  // Like load(), but a store may point into `in`'s memory instead of copying (the caller keeps
  // that memory alive and read-only: an mmap-ed file). The default copies.
  virtual void load_view(ByteReader& in, size_t count) { load(in, count); }
  virtual size_t memory_bytes() const = 0;

  // Moves each code (and per-slot factor) below permutation.size() to its new slot, in place,
  // allocating nothing (the index renumbers slots for locality, index_reorder.cpp). Only a
  // store loaded as a read-only view refuses, with StateError, before changing anything.
  virtual void permute(const SlotPermutation& permutation) = 0;
};

// Creates a store for a dtype name; throws InvalidArgument for unknown names.
// Options a codec may read: pq_m (sub-quantizers), seed.
struct StoreOptions {
  size_t pq_m = 0;
  uint64_t seed = 42;
};
std::unique_ptr<VectorStore> make_store(const std::string& dtype, size_t dim, Metric metric,
                                        const StoreOptions& options);

}  // namespace vecindex
