// Test hooks for the codec kernels and stores, bound into vecindex._codec_testing (not _core).
// The Index uses the stores directly; these exist so tests can compare every kernel at every
// level, and every codec, against numpy.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <algorithm>

#include "bindings/bind.h"
#include "simd/codec_kernels.h"
#include "simd/half_convert.h"
#include "storage/bounded_distance.h"
#include "storage/codec_factory.h"
#include "storage/kmeans.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {
namespace {

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

const simd::CodecKernelTable& table_for(const std::string& level) {
  try {
    return simd::codec_kernels_for(simd::parse_level(level));
  } catch (const std::invalid_argument& e) {
    throw InvalidArgument(e.what());
  }
}

// A store plus the number of slots filled, so tests can drive a codec end to end.
class CodecStoreHandle {
 public:
  CodecStoreHandle(const std::string& dtype, size_t dim, const std::string& metric, size_t pq_m, uint64_t seed) {
    StoreOptions options;
    options.pq_m = pq_m;
    options.seed = seed;
    store_ = make_codec_store(dtype, dim, parse_metric(metric), options);
    if (!store_) throw InvalidArgument("unknown codec dtype '" + dtype + "'; expected " + codec_dtype_names());
  }

  const float* rows(const Array<float>& vectors, size_t& count) const {
    if (vectors.ndim() != 2 || static_cast<size_t>(vectors.shape(1)) != store_->dim())
      throw InvalidArgument("vectors must have shape (n, " + std::to_string(store_->dim()) + ")");
    count = static_cast<size_t>(vectors.shape(0));
    return vectors.data();
  }

  void train(const Array<float>& vectors, size_t threads) {
    size_t count;
    const float* data = rows(vectors, count);
    py::gil_scoped_release release;
    store_->train(data, count, threads);
  }

  void add(const Array<float>& vectors) {
    size_t count;
    const float* data = rows(vectors, count);
    py::gil_scoped_release release;
    store_->reserve(count_ + count);
    for (size_t i = 0; i < count; ++i) store_->set(static_cast<uint32_t>(count_ + i), data + i * store_->dim());
    count_ += count;
  }

  Array<float> decode() const {
    Array<float> out({count_, store_->dim()});
    for (size_t i = 0; i < count_; ++i) store_->decode(static_cast<uint32_t>(i), out.mutable_data() + i * store_->dim());
    return out;
  }

  const float* query_vector(const Array<float>& query) const {
    if (query.ndim() != 1 || static_cast<size_t>(query.shape(0)) != store_->dim())
      throw InvalidArgument("query must have shape (" + std::to_string(store_->dim()) + ",)");
    return query.data();
  }

  Array<float> distances(const Array<float>& query) const {
    auto computer = store_->query(query_vector(query));
    std::vector<uint32_t> slots(count_);
    for (size_t i = 0; i < count_; ++i) slots[i] = static_cast<uint32_t>(i);
    Array<float> out(static_cast<py::ssize_t>(count_));
    computer->distances(slots.data(), count_, out.mutable_data());
    return out;
  }

  py::tuple distances_with_bound(const Array<float>& query) const {
    auto computer = store_->query(query_vector(query));
    auto* bounded = dynamic_cast<const BoundedQueryDistance*>(computer.get());
    if (!bounded) throw InvalidArgument(store_->dtype() + " distances carry no error bound");
    Array<float> estimates(static_cast<py::ssize_t>(count_)), bounds(static_cast<py::ssize_t>(count_));
    for (size_t i = 0; i < count_; ++i)
      estimates.mutable_data()[i] = bounded->distance_with_bound(static_cast<uint32_t>(i), bounds.mutable_data() + i);
    return py::make_tuple(estimates, bounds);
  }

  float distance_between(uint32_t a, uint32_t b) const {
    if (a >= count_ || b >= count_) throw InvalidArgument("slot out of range");
    return store_->distance_between(a, b);
  }

  py::bytes save() const {
    ByteWriter writer;
    store_->save(writer, count_);
    auto& buffer = writer.buffer();
    return py::bytes(reinterpret_cast<const char*>(buffer.data()), buffer.size());
  }

  void load(const py::bytes& blob, size_t count) {
    std::string bytes = blob;
    ByteReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "codec blob");
    store_->load(reader, count);
    reader.expect_end();
    count_ = count;
  }

  VectorStore& store() { return *store_; }
  size_t count() const { return count_; }

 private:
  std::unique_ptr<VectorStore> store_;
  size_t count_ = 0;
};

void bind_kernel_hooks(py::module_& m) {
  m.def("_codec_levels", [] {
    std::vector<std::string> names;
    for (auto level : simd::codec_supported_levels()) names.push_back(simd::level_name(level));
    return names;
  });
  m.def("_codec_active_level", [] { return simd::level_name(simd::active_codec_kernels().level); });
  m.def("_codec_half_kernel", [](const std::string& level, const std::string& name, const Array<float>& query,
                                 const Array<uint16_t>& codes) {
    if (query.size() != codes.size()) throw InvalidArgument("query and codes differ in length");
    const auto& table = table_for(level);
    simd::HalfPairKernel kernel = name == "f16_dot" ? table.f16_dot : name == "f16_l2sq" ? table.f16_l2sq
                                : name == "bf16_dot" ? table.bf16_dot : name == "bf16_l2sq" ? table.bf16_l2sq : nullptr;
    if (!kernel) throw InvalidArgument("unknown half kernel '" + name + "'");
    return kernel(query.data(), codes.data(), static_cast<size_t>(query.size()));
  });
  m.def("_codec_weighted_bytes", [](const std::string& level, const Array<float>& weights, const Array<uint8_t>& codes) {
    if (weights.size() != codes.size()) throw InvalidArgument("weights and codes differ in length");
    return table_for(level).weighted_bytes(weights.data(), codes.data(), static_cast<size_t>(weights.size()));
  });
  m.def("_codec_sq8_pair", [](const std::string& level, const std::string& name, const Array<float>& low,
                              const Array<float>& step, const Array<uint8_t>& a, const Array<uint8_t>& b) {
    if (low.size() != step.size() || a.size() != step.size() || b.size() != step.size())
      throw InvalidArgument("low, step and both codes differ in length");
    const auto& table = table_for(level);
    simd::Sq8PairKernel kernel = name == "dot" ? table.sq8_pair_dot : name == "l2sq" ? table.sq8_pair_l2sq : nullptr;
    if (!kernel) throw InvalidArgument("unknown sq8 pair kernel '" + name + "'");
    return kernel(low.data(), step.data(), a.data(), b.data(), static_cast<size_t>(step.size()));
  });
  m.def("_codec_weighted_bytes_i16", [](const std::string& level, const Array<int16_t>& weights, const Array<uint8_t>& codes) {
    if (weights.size() != codes.size()) throw InvalidArgument("weights and codes differ in length");
    return table_for(level).weighted_bytes_i16(weights.data(), codes.data(), static_cast<size_t>(weights.size()));
  });
  m.def("_codec_weighted_bytes_i16_x4", [](const std::string& level, const Array<int16_t>& weights,
                                           const Array<uint8_t>& codes) {
    // codes: four rows of len(weights) bytes, one after another.
    if (codes.size() != 4 * weights.size()) throw InvalidArgument("codes must hold four rows of len(weights) bytes");
    const size_t dim = static_cast<size_t>(weights.size());
    const uint8_t* rows[4] = {codes.data(), codes.data() + dim, codes.data() + 2 * dim, codes.data() + 3 * dim};
    int32_t out[4];
    table_for(level).weighted_bytes_i16_x4(weights.data(), rows, dim, out);
    return std::vector<int32_t>(out, out + 4);
  });
  m.def("_codec_weighted_nibbles_i16", [](const std::string& level, const Array<int16_t>& weights,
                                          const Array<uint8_t>& codes) {
    // weights: 32 per block; codes: 16 bytes per block.
    if (weights.size() % 32 != 0 || codes.size() * 2 != weights.size())
      throw InvalidArgument("need 32 weights and 16 code bytes per block");
    return table_for(level).weighted_nibbles_i16(weights.data(), codes.data(), static_cast<size_t>(codes.size()) / 16);
  });
  m.def("_codec_weighted_nibbles_i16_x4", [](const std::string& level, const Array<int16_t>& weights,
                                             const Array<uint8_t>& codes) {
    // weights: 32 per block; codes: four rows of 16 bytes per block, one after another.
    if (weights.size() % 32 != 0 || codes.size() != 2 * weights.size())
      throw InvalidArgument("need 32 weights per block and four rows of 16 code bytes per block");
    const size_t row = static_cast<size_t>(weights.size()) / 2;
    const uint8_t* rows[4] = {codes.data(), codes.data() + row, codes.data() + 2 * row, codes.data() + 3 * row};
    int32_t out[4];
    table_for(level).weighted_nibbles_i16_x4(weights.data(), rows, row / 16, out);
    return std::vector<int32_t>(out, out + 4);
  });
  m.def("_codec_table_lookup", [](const std::string& level, const Array<float>& table, const Array<uint8_t>& codes) {
    if (static_cast<size_t>(table.size()) != static_cast<size_t>(codes.size()) * 256)
      throw InvalidArgument("table must hold 256 entries per code");
    return table_for(level).table_lookup(table.data(), codes.data(), static_cast<size_t>(codes.size()));
  });
  m.def("_codec_popcount", [](const std::string& level, const std::string& name, const Array<uint64_t>& a,
                              const Array<uint64_t>& b) -> uint64_t {
    const auto& table = table_for(level);
    size_t n = static_cast<size_t>(a.size());
    if (name == "popcount") return table.popcount(a.data(), n);
    if (static_cast<size_t>(b.size()) != n) throw InvalidArgument("word arrays differ in length");
    if (name == "and") return table.and_popcount(a.data(), b.data(), n);
    if (name == "xor") return table.xor_popcount(a.data(), b.data(), n);
    throw InvalidArgument("unknown popcount kernel '" + name + "'");
  });
  m.def("_codec_bitplane_dot", [](const std::string& level, const Array<uint64_t>& code, const Array<uint64_t>& planes,
                                  size_t plane_count) {
    if (static_cast<size_t>(planes.size()) != static_cast<size_t>(code.size()) * plane_count)
      throw InvalidArgument("planes must hold plane_count x len(code) words");
    return table_for(level).bitplane_dot(code.data(), planes.data(), static_cast<size_t>(code.size()), plane_count);
  });
  m.def("_codec_nearest_centroid", [](const std::string& level, const Array<float>& point, const Array<float>& centroids) {
    if (centroids.ndim() != 2 || centroids.shape(1) != point.size())
      throw InvalidArgument("centroids must have shape (count, len(point))");
    size_t count = static_cast<size_t>(centroids.shape(0)), dim = static_cast<size_t>(point.size());
    std::vector<float> by_dim(count * dim), norms(count);
    transpose_centroids(centroids.data(), count, dim, by_dim.data(), norms.data());
    return table_for(level).nearest_centroid(point.data(), by_dim.data(), norms.data(), dim, count);
  });
  m.def("_fastscan32", [](const std::string& level, const Array<uint8_t>& packed, const Array<uint8_t>& tables) {
    // packed: 16 bytes per group (codes t and t + 16 in byte t); tables: 16 entries per group.
    if (packed.size() % 16 != 0 || tables.size() != packed.size())
      throw InvalidArgument("need 16 packed code bytes and 16 table entries per group, got " +
                            std::to_string(packed.size()) + " and " + std::to_string(tables.size()));
    const auto& table = table_for(level);
    Array<uint16_t> out(32);
    table.fastscan32(packed.data(), tables.data(), static_cast<size_t>(packed.size()) / 16, out.mutable_data());
    return out;
  });
  m.def("_fastscan32_rows", [](const std::string& level, const Array<uint8_t>& rows, const Array<uint8_t>& tables) {
    // rows: (n, 16 * groups), one block of 32 packed codes per row, each scored against the same
    // tables, as a walk scores node after node; returns (n, 32). For benchmarks as much as tests.
    if (tables.size() % 16 != 0 || rows.ndim() != 2 || rows.shape(1) != tables.size())
      throw InvalidArgument("rows must have shape (n, len(tables)) and tables 16 entries per group");
    const auto& table = table_for(level);
    const size_t count = static_cast<size_t>(rows.shape(0)), row_bytes = static_cast<size_t>(tables.size());
    Array<uint16_t> out({count, size_t{32}});
    for (size_t i = 0; i < count; ++i)
      table.fastscan32(rows.data() + i * row_bytes, tables.data(), row_bytes / 16, out.mutable_data() + 32 * i);
    return out;
  });
  m.def("_f32_to_f16_bits", [](const Array<float>& values) {
    Array<uint16_t> out(values.size());
    for (py::ssize_t i = 0; i < values.size(); ++i) out.mutable_data()[i] = simd::float_to_half(values.data()[i]);
    return out;
  });
  m.def("_f16_bits_to_f32", [](const Array<uint16_t>& bits) {
    Array<float> out(bits.size());
    for (py::ssize_t i = 0; i < bits.size(); ++i) out.mutable_data()[i] = simd::half_to_float(bits.data()[i]);
    return out;
  });
  m.def("_f32_to_bf16_bits", [](const Array<float>& values) {
    Array<uint16_t> out(values.size());
    for (py::ssize_t i = 0; i < values.size(); ++i) out.mutable_data()[i] = simd::float_to_bf16(values.data()[i]);
    return out;
  });
}

}  // namespace

void bind_codecs(py::module_& m) {
  bind_kernel_hooks(m);
  py::class_<CodecStoreHandle>(m, "_CodecStore")
      .def(py::init<const std::string&, size_t, const std::string&, size_t, uint64_t>(), py::arg("dtype"),
           py::arg("dim"), py::arg("metric") = "l2", py::arg("pq_m") = 0, py::arg("seed") = 42)
      .def("train", &CodecStoreHandle::train, py::arg("vectors"), py::arg("threads") = 2)
      .def("add", &CodecStoreHandle::add)
      .def("decode", &CodecStoreHandle::decode)
      .def("distances", &CodecStoreHandle::distances)
      .def("distances_with_bound", &CodecStoreHandle::distances_with_bound)
      .def("distance_between", &CodecStoreHandle::distance_between)
      .def("save", &CodecStoreHandle::save)
      .def("load", &CodecStoreHandle::load, py::arg("blob"), py::arg("count"))
      .def_property_readonly("count", &CodecStoreHandle::count)
      .def_property_readonly("dtype", [](CodecStoreHandle& h) { return h.store().dtype(); })
      .def_property_readonly("bytes_per_vector", [](CodecStoreHandle& h) { return h.store().bytes_per_vector(); })
      .def_property_readonly("memory_bytes", [](CodecStoreHandle& h) { return h.store().memory_bytes(); })
      .def_property_readonly("is_trained", [](CodecStoreHandle& h) { return h.store().is_trained(); })
      .def_property_readonly("min_training_size", [](CodecStoreHandle& h) { return h.store().min_training_size(); });
}

}  // namespace vecindex::bindings
