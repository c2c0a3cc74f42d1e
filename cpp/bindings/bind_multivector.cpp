// Binds vecindex::MultiVectorIndex plus test hooks for the Chamfer kernels and the encoder's
// random parameters. Array conversion, GIL release and shape checks only; no logic.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/bind.h"
#include "bindings/filter_types.h"
#include "multivector/multivector_index.h"
#include "simd/chamfer_kernels.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {
void bind_multivector(py::module_& m);

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// Token rows plus offsets, checked for shape and consistency; the core checks the contents.
TokenSets token_sets(const FloatArray& tokens, const IdArray& offsets, size_t dim) {
  if (tokens.ndim() != 2 || size_t(tokens.shape(1)) != dim)
    throw InvalidArgument("tokens must be a 2-D array with " + std::to_string(dim) + " columns");
  if (offsets.ndim() != 1 || offsets.shape(0) < 1) throw InvalidArgument("offsets must be a 1-D array of count + 1 entries");
  TokenSets sets;
  sets.tokens = tokens.data();
  sets.offsets = offsets.data();
  sets.count = size_t(offsets.shape(0)) - 1;
  for (size_t i = 0; i <= sets.count; ++i)
    if (sets.offsets[i] < 0 || sets.offsets[i] > tokens.shape(0))
      throw InvalidArgument("offsets must lie between 0 and the number of token rows");
  if (sets.offsets[sets.count] != tokens.shape(0)) throw InvalidArgument("the last offset must equal the number of token rows");
  return sets;
}

const simd::ChamferKernelTable& chamfer_table_for(const std::string& level) {
  try {
    return simd::chamfer_kernels_for(simd::parse_level(level));
  } catch (const std::invalid_argument& e) {
    throw InvalidArgument(e.what());
  }
}

template <typename T>
py::array_t<T> to_numpy(const std::vector<T>& values) {
  py::array_t<T> out(values.size());
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

}  // namespace

void bind_multivector(py::module_& m) {
  py::class_<MultiVectorIndex>(m, "MultiVectorIndex",
                               "Native multi-vector index. Use vecindex.MultiVectorIndex, which validates inputs.")
      .def(py::init([](size_t dim, const std::string& dtype, const std::string& token_dtype, size_t k_sim, size_t d_proj,
                       size_t r_reps, size_t final_dim, uint64_t fde_seed, size_t M, size_t ef_construction,
                       size_t ef_search, uint64_t seed, const std::vector<std::pair<std::string, std::string>>& attributes) {
             MultiVectorConfig config;
             config.fde = FdeConfig{dim, k_sim, d_proj, r_reps, final_dim, fde_seed};
             config.token_dtype = parse_token_dtype(token_dtype);
             config.graph.dtype = dtype;
             config.graph.M = M;
             config.graph.ef_construction = ef_construction;
             config.graph.ef_search = ef_search;
             config.graph.seed = seed;
             config.graph.store.seed = seed;
             for (const auto& [name, kind] : attributes) config.graph.attributes.push_back({name, parse_attribute_kind(kind)});
             config.validate();
             return std::make_unique<MultiVectorIndex>(config);
           }),
           py::arg("dim"), py::arg("dtype"), py::arg("token_dtype"), py::arg("k_sim"), py::arg("d_proj"), py::arg("r_reps"),
           py::arg("final_dim"), py::arg("fde_seed"), py::arg("M"), py::arg("ef_construction"), py::arg("ef_search"),
           py::arg("seed"), py::arg("attributes") = std::vector<std::pair<std::string, std::string>>())
      .def_property_readonly("dim", &MultiVectorIndex::dim)
      .def_property_readonly("dtype", [](const MultiVectorIndex& self) { return self.config().graph.dtype; })
      .def_property_readonly("token_dtype", [](const MultiVectorIndex& self) { return token_dtype_name(self.config().token_dtype); })
      .def_property_readonly("k_sim", [](const MultiVectorIndex& self) { return self.config().fde.k_sim; })
      .def_property_readonly("d_proj", [](const MultiVectorIndex& self) { return self.config().fde.d_proj; })
      .def_property_readonly("r_reps", [](const MultiVectorIndex& self) { return self.config().fde.r_reps; })
      .def_property_readonly("final_dim", [](const MultiVectorIndex& self) { return self.config().fde.final_dim; })
      .def_property_readonly("fde_seed", [](const MultiVectorIndex& self) { return self.config().fde.seed; })
      .def_property_readonly("encoding_dim", &MultiVectorIndex::encoding_dim)
      .def_property_readonly("M", [](const MultiVectorIndex& self) { return self.graph().config().M; })
      .def_property_readonly("ef_construction", [](const MultiVectorIndex& self) { return self.graph().config().ef_construction; })
      .def_property_readonly("ef_search", [](const MultiVectorIndex& self) { return self.graph().config().ef_search; })
      .def_property_readonly("seed", [](const MultiVectorIndex& self) { return self.graph().config().seed; })
      .def_property_readonly("attribute_schema", [](const MultiVectorIndex& self) { return schema_to_python(self.graph().attribute_schema()); })
      .def_property_readonly("read_only", &MultiVectorIndex::read_only)
      // These take the index's lock: release the GIL so a long add() elsewhere cannot stall Python.
      .def("__len__", &MultiVectorIndex::size, py::call_guard<py::gil_scoped_release>())
      .def("contains", &MultiVectorIndex::contains, py::arg("id"), py::call_guard<py::gil_scoped_release>())
      .def("ids", [](const MultiVectorIndex& self) {
             std::vector<int64_t> all;
             {
               py::gil_scoped_release release;
               all = self.ids();
             }
             return to_numpy(all);
           })
      .def("token_count", &MultiVectorIndex::token_count, py::call_guard<py::gil_scoped_release>())
      .def("add", [](MultiVectorIndex& self, const FloatArray& tokens, const IdArray& offsets, std::optional<IdArray> ids,
                     size_t threads, const AttributeBatch* attributes) {
             TokenSets documents = token_sets(tokens, offsets, self.dim());
             const int64_t* id_data = nullptr;
             if (ids) {
               if (ids->ndim() != 1 || size_t(ids->shape(0)) != documents.count)
                 throw InvalidArgument("got " + std::to_string(ids->size()) + " ids for " + std::to_string(documents.count) + " documents");
               id_data = ids->data();
             }
             std::vector<int64_t> assigned;
             {
               py::gil_scoped_release release;
               assigned = self.add(documents, id_data, threads, attributes);
             }
             return to_numpy(assigned);
           },
           py::arg("tokens"), py::arg("offsets"), py::arg("ids"), py::arg("threads"), py::arg("attributes") = nullptr)
      .def("search", [](const MultiVectorIndex& self, const FloatArray& tokens, const IdArray& offsets, size_t k,
                        size_t candidates, size_t ef, size_t threads, const std::vector<PyFilter>& filters) {
             TokenSets queries = token_sets(tokens, offsets, self.dim());
             MultiVectorSearchParams params{k, candidates, ef, threads};
             std::vector<FilterExprPtr> exprs;
             for (const auto& filter : filters) exprs.push_back(filter.expr);
             py::array_t<int64_t> ids({queries.count, k});
             py::array_t<float> scores({queries.count, k});
             int64_t* id_out = ids.mutable_data();
             float* score_out = scores.mutable_data();
             {
               py::gil_scoped_release release;
               self.search(queries, params, exprs, id_out, score_out);
             }
             return py::make_tuple(ids, scores);
           },
           py::arg("tokens"), py::arg("offsets"), py::arg("k"), py::arg("candidates"), py::arg("ef"), py::arg("threads"),
           py::arg("filters"))
      .def("search_exact", [](const MultiVectorIndex& self, const FloatArray& tokens, const IdArray& offsets, size_t k,
                              size_t threads) {
             TokenSets queries = token_sets(tokens, offsets, self.dim());
             py::array_t<int64_t> ids({queries.count, k});
             py::array_t<float> scores({queries.count, k});
             int64_t* id_out = ids.mutable_data();
             float* score_out = scores.mutable_data();
             {
               py::gil_scoped_release release;
               self.search_exact(queries, k, threads, id_out, score_out);
             }
             return py::make_tuple(ids, scores);
           },
           py::arg("tokens"), py::arg("offsets"), py::arg("k"), py::arg("threads"))
      .def("rerank", [](const MultiVectorIndex& self, const FloatArray& tokens, const IdArray& offsets,
                        const IdArray& candidates, size_t k, size_t threads) {
             TokenSets queries = token_sets(tokens, offsets, self.dim());
             if (candidates.ndim() != 2 || size_t(candidates.shape(0)) != queries.count)
               throw InvalidArgument("candidates must be a 2-D array with one row per query");
             const size_t width = size_t(candidates.shape(1));
             py::array_t<int64_t> ids({queries.count, k});
             py::array_t<float> scores({queries.count, k});
             int64_t* id_out = ids.mutable_data();
             float* score_out = scores.mutable_data();
             {
               py::gil_scoped_release release;
               self.rerank_candidates(queries, candidates.data(), width, k, threads, id_out, score_out);
             }
             return py::make_tuple(ids, scores);
           },
           py::arg("tokens"), py::arg("offsets"), py::arg("candidates"), py::arg("k"), py::arg("threads"))
      .def("get", [](const MultiVectorIndex& self, int64_t id) {
             std::vector<float> values;
             {
               py::gil_scoped_release release;
               values = self.get(id);
             }
             py::array_t<float> out({values.size() / self.dim(), self.dim()});
             std::copy(values.begin(), values.end(), out.mutable_data());
             return out;
           },
           py::arg("id"))
      .def("remove", [](MultiVectorIndex& self, const IdArray& ids) {
             if (ids.ndim() != 1) throw InvalidArgument("ids must be a 1-D array");
             py::gil_scoped_release release;
             self.remove(ids.data(), size_t(ids.shape(0)));
           },
           py::arg("ids"))
      .def("encode", [](const MultiVectorIndex& self, const FloatArray& tokens, const IdArray& offsets, bool documents,
                        size_t threads) {
             TokenSets sets = token_sets(tokens, offsets, self.dim());
             py::array_t<float> out({sets.count, self.encoding_dim()});
             float* data = out.mutable_data();
             {
               py::gil_scoped_release release;
               if (documents) self.encode_documents(sets, threads, data);
               else self.encode_queries(sets, threads, data);
             }
             return out;
           },
           py::arg("tokens"), py::arg("offsets"), py::arg("documents"), py::arg("threads"))
      .def("to_bytes", [](const MultiVectorIndex& self) {
             std::vector<uint8_t> bytes;
             {
               py::gil_scoped_release release;
               bytes = self.to_bytes();
             }
             return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
           })
      .def_static("from_bytes", [](py::buffer data) {
             py::buffer_info info = data.request();
             if (info.itemsize != 1 || info.ndim != 1 || (info.size > 1 && info.strides[0] != 1))
               throw InvalidArgument("from_bytes() takes contiguous bytes");
             const auto* bytes = static_cast<const uint8_t*>(info.ptr);
             size_t size = size_t(info.size);
             py::gil_scoped_release release;
             return MultiVectorIndex::from_bytes(bytes, size);
           },
           py::arg("data"))
      .def("save", [](const MultiVectorIndex& self, const std::string& path) {
             py::gil_scoped_release release;
             self.save(path);
           },
           py::arg("path"))
      .def_static("load", [](const std::string& path, bool mmap) {
             py::gil_scoped_release release;
             return MultiVectorIndex::load(path, mmap);
           },
           py::arg("path"), py::arg("mmap") = false)
      .def("memory_usage", [](const MultiVectorIndex& self) {
             size_t parts[6];
             {
               py::gil_scoped_release release;
               const MemoryUsage graph = self.graph().memory_usage();
               parts[0] = graph.graph;
               parts[1] = graph.codes + graph.full_vectors;
               parts[2] = graph.attributes;
               parts[3] = self.memory_tokens();
               parts[4] = self.memory_documents();
               parts[5] = self.mapped_bytes();
             }
             py::dict out;
             const char* names[6] = {"graph", "encodings", "attributes", "tokens", "documents", "mapped"};
             for (int i = 0; i < 6; ++i) out[names[i]] = parts[i];
             return out;
           });

  m.def("_chamfer_levels", [] {
    std::vector<std::string> names;
    for (auto level : simd::chamfer_supported_levels()) names.push_back(simd::level_name(level));
    return names;
  }, "Test hook: the SIMD levels whose Chamfer kernel this CPU and build can run.");
  m.def("_chamfer_active_level", [] { return simd::level_name(simd::active_chamfer_kernels().level); },
        "Test hook: the level of the Chamfer kernel chosen at import.");
  m.def("_chamfer", [](const std::string& level, const FloatArray& query, const FloatArray& doc) {
    const simd::ChamferKernelTable& table = chamfer_table_for(level);
    if (query.ndim() != 2 || doc.ndim() != 2 || query.shape(1) != doc.shape(1))
      throw InvalidArgument("query and doc must be 2-D with the same number of columns");
    if (doc.shape(0) < 1) throw InvalidArgument("doc must have at least one row");
    return table.chamfer(query.data(), size_t(query.shape(0)), doc.data(), size_t(doc.shape(0)), size_t(query.shape(1)));
  }, py::arg("level"), py::arg("query"), py::arg("doc"),
     "Test hook: exact Chamfer similarity of two token sets with one SIMD level's kernel.");
  m.def("_chamfer_decode_f16", [](const std::string& level,
                                  const py::array_t<uint16_t, py::array::c_style | py::array::forcecast>& bits) {
    const simd::ChamferKernelTable& table = chamfer_table_for(level);
    if (bits.ndim() != 1) throw InvalidArgument("bits must be 1-D");
    py::array_t<float> out(bits.size());
    table.decode_f16(bits.data(), size_t(bits.size()), out.mutable_data());
    return out;
  }, py::arg("level"), py::arg("bits"), "Test hook: one SIMD level's f16 -> f32 token decode.");
  m.def("_fde_parameters", [](size_t dim, size_t k_sim, size_t d_proj, size_t r_reps, size_t final_dim, uint64_t seed) {
    FdeEncoder encoder(FdeConfig{dim, k_sim, d_proj, r_reps, final_dim, seed});
    py::dict out;
    out["hyperplanes"] = to_numpy(encoder.hyperplanes());
    out["projections"] = to_numpy(encoder.projections());
    out["final_index"] = to_numpy(encoder.final_index());
    out["final_sign"] = to_numpy(encoder.final_sign());
    return out;
  }, py::arg("dim"), py::arg("k_sim"), py::arg("d_proj"), py::arg("r_reps"), py::arg("final_dim"), py::arg("seed"),
     "Test hook: the encoder's random parameters (flat arrays) for a reference implementation.");
}

}  // namespace vecindex::bindings
