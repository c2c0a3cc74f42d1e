#include "storage/pq_store.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <thread>

#include "simd/kernels.h"
#include "storage/kmeans.h"
#include "storage/prefetched_scoring.h"
#include "util/prefetch.h"

namespace vecindex {
namespace {

constexpr uint32_t kPqCodecVersion = 1;

class PqQueryDistance final : public QueryDistance {
 public:
  PqQueryDistance(const PqStore& store, const float* query)
      : store_(store), table_(store.subspaces() * PqStore::kCentroids), kernel_(store.table_lookup()) {
    const size_t sub_dim = store.subspace_dim();
    const bool l2 = store.metric() == Metric::l2;
    for (size_t j = 0; j < store.subspaces(); ++j) {
      const float* part = query + j * sub_dim;
      float* row = table_.data() + j * PqStore::kCentroids;
      for (size_t c = 0; c < PqStore::kCentroids; ++c) {
        const float* centroid = store.centroid(j, c);
        float value = 0;
        if (l2) {
          for (size_t d = 0; d < sub_dim; ++d) { float diff = part[d] - centroid[d]; value += diff * diff; }
        } else {
          for (size_t d = 0; d < sub_dim; ++d) value -= part[d] * centroid[d];  // -dot, summed below
        }
        row[c] = value;
      }
    }
    offset_ = store.metric() == Metric::cosine ? 1.0f : 0.0f;
  }

  float distance(uint32_t slot) const override {
    return offset_ + kernel_(table_.data(), store_.codes(slot), store_.subspaces());
  }
  void distances(const uint32_t* slots, size_t count, float* out) const override {
    score_prefetched<8>(slots, count, out, [this](uint32_t s) { prefetch(s); },
                        [this](uint32_t s) { return distance(s); });
  }
  void prefetch(uint32_t slot) const override { prefetch_line(store_.codes(slot)); }

 private:
  const PqStore& store_;
  std::vector<float> table_;
  float offset_;
  simd::TableLookupKernel kernel_;
};

size_t default_subspaces(size_t dim) {
  size_t m = std::max<size_t>(1, dim / 8);
  while (dim % m != 0) --m;
  return m;
}

}  // namespace

PqStore::PqStore(size_t dim, Metric metric, size_t pq_m, uint64_t seed)
    : dim_(dim), metric_(metric), subspaces_(pq_m == 0 ? default_subspaces(dim) : pq_m),
      subspace_dim_(0), seed_(seed), codes_(subspaces_) {
  nearest_centroid_ = simd::active_codec_kernels().nearest_centroid;
  table_lookup_ = simd::active_codec_kernels().table_lookup;
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (subspaces_ > dim || dim % subspaces_ != 0)
    throw InvalidArgument("pq_m=" + std::to_string(subspaces_) + " must divide dim=" + std::to_string(dim) +
                          " (each sub-quantizer covers dim / pq_m dimensions)");
  subspace_dim_ = dim / subspaces_;
}

void PqStore::require_trained(const char* operation) const {
  if (!trained_)
    throw StateError(std::string("pq store must be trained before ") + operation + "; call train() with at least " +
                     std::to_string(kCentroids) + " vectors");
}

void PqStore::train(const float* vectors, size_t count, size_t threads) {
  if (count < kCentroids)
    throw InvalidArgument("pq training needs at least " + std::to_string(kCentroids) + " vectors (one per centroid), got " +
                          std::to_string(count));
  for (size_t i = 0; i < count * dim_; ++i)
    if (!std::isfinite(vectors[i])) throw InvalidArgument("pq training vectors contain NaN or infinity");
  // A seeded subset bounds training time; ~48 points per centroid is plenty for 8-bit codes.
  std::vector<uint32_t> chosen(count);
  for (size_t i = 0; i < count; ++i) chosen[i] = static_cast<uint32_t>(i);
  size_t used = std::min(count, kMaxTrainingPoints);
  SplitMix64 rng(seed_);
  for (size_t i = 0; i < used; ++i) std::swap(chosen[i], chosen[i + rng.below(count - i)]);

  std::vector<float> centroids(subspaces_ * kCentroids * subspace_dim_);
  std::atomic<size_t> next_subspace{0};
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
  auto worker = [&] {
    try {
      std::vector<float> part(used * subspace_dim_);
      for (size_t j; (j = next_subspace.fetch_add(1)) < subspaces_;) {
        for (size_t i = 0; i < used; ++i)
          std::copy_n(vectors + chosen[i] * dim_ + j * subspace_dim_, subspace_dim_, part.data() + i * subspace_dim_);
        std::vector<float> learned = kmeans(part.data(), used, subspace_dim_, kCentroids, kIterations, seed_ + j);
        std::copy(learned.begin(), learned.end(), centroids.begin() + j * kCentroids * subspace_dim_);
      }
    } catch (...) {
      if (!failed.exchange(true)) failure = std::current_exception();
    }
  };
  size_t thread_count = std::max<size_t>(1, std::min(threads == 0 ? size_t(std::thread::hardware_concurrency()) : threads, subspaces_));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < thread_count; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
  centroids_ = std::move(centroids);
  prepare_encoder();
  trained_ = true;
}

void PqStore::prepare_encoder() {
  centroids_by_dim_.resize(centroids_.size());
  centroid_norms_.resize(subspaces_ * kCentroids);
  for (size_t j = 0; j < subspaces_; ++j)
    transpose_centroids(centroid(j, 0), kCentroids, subspace_dim_, centroids_by_dim_.data() + j * kCentroids * subspace_dim_,
                        centroid_norms_.data() + j * kCentroids);
}

void PqStore::set(uint32_t slot, const float* vector) {
  require_trained("adding vectors");
  codes_.check_slot(slot);
  uint8_t* code = codes_.slot(slot);
  for (size_t j = 0; j < subspaces_; ++j)
    code[j] = static_cast<uint8_t>(nearest_centroid_(vector + j * subspace_dim_,
                                                      centroids_by_dim_.data() + j * kCentroids * subspace_dim_,
                                                      centroid_norms_.data() + j * kCentroids, subspace_dim_, kCentroids));
}

void PqStore::decode(uint32_t slot, float* out) const {
  require_trained("decoding");
  codes_.check_slot(slot);
  const uint8_t* code = codes_.slot(slot);
  for (size_t j = 0; j < subspaces_; ++j) std::copy_n(centroid(j, code[j]), subspace_dim_, out + j * subspace_dim_);
}

std::unique_ptr<QueryDistance> PqStore::query(const float* vector) const {
  if (!is_trained()) return std::make_unique<UntrainedQueryDistance>(dtype());
  return std::make_unique<PqQueryDistance>(*this, vector);
}

// Symmetric distance between two codes: both decoded to their centroids, then the f32 kernels
// (graph building calls this a lot).
float PqStore::distance_between(uint32_t a, uint32_t b) const { return decoded_distance(*this, a, b); }

void PqStore::save(ByteWriter& out, size_t count) const {
  require_trained("saving");
  write_codec_header(out, "pq", kPqCodecVersion, dim_, metric_);
  out.put<uint64_t>(subspaces_);
  out.put_array(centroids_.data(), centroids_.size());
  codes_.save(out, count);
}

void PqStore::load(ByteReader& in, size_t count) {
  read_codec_header(in, "pq", kPqCodecVersion, dim_, metric_);
  // The blob's pq_m wins over the constructor's (a loaded index may not know it up front).
  uint64_t subspaces = in.get<uint64_t>();
  if (subspaces == 0 || subspaces > dim_ || dim_ % subspaces != 0)
    throw FormatError(in.what() + ": pq blob has pq_m=" + std::to_string(subspaces) + ", which does not divide dim=" +
                      std::to_string(dim_));
  size_t subspace_dim = dim_ / subspaces;
  std::vector<float> centroids = in.get_vector<float>(subspaces * kCentroids * subspace_dim);
  require_finite(centroids.data(), centroids.size(), in.what() + ": pq centroids");
  CodeArena codes(subspaces);
  codes.load(in, count);  // every byte is a valid centroid index, nothing more to check
  subspaces_ = subspaces;
  subspace_dim_ = subspace_dim;
  centroids_ = std::move(centroids);
  codes_ = std::move(codes);
  prepare_encoder();
  trained_ = true;
}

}  // namespace vecindex
