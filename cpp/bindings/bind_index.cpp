// Binds vecindex::Index. Array conversion, GIL release and shape checks only; no logic.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/bind.h"
#include "bindings/filter_types.h"
#include "bindings/key_convert.h"
#include "bindings/progress_poll.h"
#include "bindings/release_gil.h"
#include "index/index.h"
#include "index/key_table.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

// Lets long native calls notice Ctrl-C: briefly takes the GIL and runs Python's signal handlers.
PollFn signal_poll() {
  return [](size_t, size_t) {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();  // the native call raises KeyboardInterrupt itself once workers stop
      return true;
    }
    return false;
  };
}

void check_matrix(const FloatArray& array, size_t dim, const char* what) {
  if (array.ndim() != 2) throw InvalidArgument(std::string(what) + " must be a 2-D array");
  if (size_t(array.shape(1)) != dim)
    throw InvalidArgument(std::string(what) + " have " + std::to_string(array.shape(1)) + " columns; this index has dim=" +
                          std::to_string(dim));
}

void check_ids(const IdArray& ids) {
  if (ids.ndim() != 1) throw InvalidArgument("ids must be a 1-D array");
}

// Attribute rows as a dict of columns (lists, None where missing).
py::dict attribute_rows_to_python(const std::vector<AttributeField>& schema, const std::vector<AttributeRow>& rows) {
  py::dict out;
  for (size_t field = 0; field < schema.size(); ++field) {
    py::list column;
    for (const auto& row : rows) column.append(attribute_value_to_python(row[field]));
    out[py::str(schema[field].name)] = column;
  }
  return out;
}

// One search call into fresh (nq, k) result arrays: `run` gets the output pointers, the poll and
// (for an index with string keys) the vector to fill with keys, and runs without the GIL.
// params were checked when made, so k is sane before the arrays are sized.
template <class Run>
py::tuple search_into_arrays(const Index& self, const FloatArray& queries, const SearchParams& params, Run run) {
  check_matrix(queries, self.config().dim, "queries");
  const size_t nq = size_t(queries.shape(0)), k = params.k;
  py::array_t<int64_t> ids({nq, k});
  py::array_t<float> distances({nq, k});
  int64_t* id_out = ids.mutable_data();
  float* distance_out = distances.mutable_data();
  const bool keyed = self.config().string_keys;
  std::vector<std::string> keys;
  const PollFn poll = nq >= 64 ? signal_poll() : PollFn();
  {
    py::gil_scoped_release release;
    run(nq, id_out, distance_out, poll, keyed ? &keys : nullptr);
  }
  py::object found = keyed ? py::object(keys_to_array(keys, {py::ssize_t(nq), py::ssize_t(k)})) : py::object(ids);
  return py::make_tuple(found, distances);
}

py::dict memory_dict(const MemoryUsage& usage) {
  py::dict out;
  out["graph"] = usage.graph;
  out["codes"] = usage.codes;
  out["full_vectors"] = usage.full_vectors;
  out["attributes"] = usage.attributes;
  out["mapped"] = usage.mapped;
  out["keys"] = usage.keys;
  return out;
}

void bind_search_params(py::module_& m) {
  // Options left as None keep the core's defaults. Python ints arrive as int64; a negative one
  // wraps, and validate() reports it as given. Checked here, before a search sizes its output.
  py::class_<SearchParams>(m, "SearchParams", "Options of one search; the core checks their ranges.")
      .def(py::init([](int64_t k, std::optional<int64_t> ef, std::optional<int64_t> rerank_factor,
                       std::optional<int64_t> threads) {
             SearchParams params;
             params.k = size_t(k);
             if (ef) params.ef = size_t(*ef);
             if (rerank_factor) params.rerank_factor = size_t(*rerank_factor);
             if (threads) params.threads = size_t(*threads);
             params.validate(/*with_rerank_factor=*/rerank_factor.has_value());  // searches refuse it unset
             return params;
           }),
           py::kw_only(), py::arg("k"), py::arg("ef") = py::none(), py::arg("rerank_factor") = py::none(),
           py::arg("threads") = py::none())
      .def_property_readonly("k", [](const SearchParams& p) { return p.k; })
      .def_property_readonly("ef", [](const SearchParams& p) { return p.ef; })
      .def_property_readonly("rerank_factor", [](const SearchParams& p) { return p.rerank_factor; })
      .def_property_readonly("threads", [](const SearchParams& p) { return p.threads; });
}

}  // namespace

void bind_index(py::module_& m) {
  bind_search_params(m);
  // The core's key rules without an index, for callers that must refuse bad keys before
  // changing anything (vecindex.distributed checks a call's keys once, before any shard).
  m.def("check_keys", [](const py::handle& keys, bool unique) { check_keys(keys_from_python(keys, "keys"), unique); },
        py::arg("keys"), py::arg("unique"));
  m.attr("LAZY_TRAINING_ROWS") = Index::kLazyTrainingRows;  // rows at which rerank=True indexes train their codec
  m.attr("INTERLEAVED_ROW_BYTES") = kInterleavedRowBytes;  // batch walks interleave over rows up to this size
  m.attr("GRAPH_CODES_TRAINING_ROWS") = Index::kGraphCodesTrainingRows;  // rows at which graph_codes trains
  py::class_<Index>(m, "Index", "Native HNSW index. Use vecindex.Index, which validates and documents inputs.")
      .def(py::init([](size_t dim, const std::string& metric, const std::string& dtype, size_t M, size_t ef_construction,
                       size_t ef_search, uint64_t seed, size_t pq_m, bool rerank,
                       const std::vector<std::pair<std::string, std::string>>& attributes, bool string_keys,
                       const std::string& graph_codes) {
             IndexConfig config;
             config.dim = dim;
             config.metric = parse_metric(metric);
             config.dtype = dtype;
             config.M = M;
             config.ef_construction = ef_construction;
             config.ef_search = ef_search;
             config.seed = seed;
             config.store.pq_m = pq_m;
             config.store.seed = seed;
             config.rerank = rerank;
             for (const auto& [name, kind] : attributes) config.attributes.push_back({name, parse_attribute_kind(kind)});
             config.string_keys = string_keys;
             config.graph_codes = graph_codes;
             return std::make_unique<Index>(config);
           }),
           py::arg("dim"), py::arg("metric"), py::arg("dtype"), py::arg("M"), py::arg("ef_construction"),
           py::arg("ef_search"), py::arg("seed"), py::arg("pq_m"), py::arg("rerank"),
           py::arg("attributes") = std::vector<std::pair<std::string, std::string>>(), py::arg("string_keys") = false,
           py::arg("graph_codes") = "none")
      .def_property_readonly("graph_codes", [](const Index& self) { return self.config().graph_codes; })
      .def_property_readonly("walks_graph_codes",
                             [](const Index& self) { return without_gil([&] { return self.walks_graph_codes(); }); })
      .def_property_readonly("string_keys", [](const Index& self) { return self.config().string_keys; })
      .def_property_readonly("attribute_schema", [](const Index& self) { return schema_to_python(self.attribute_schema()); })
      .def_property_readonly("dim", [](const Index& self) { return self.config().dim; })
      .def_property_readonly("metric", [](const Index& self) { return metric_name(self.config().metric); })
      .def_property_readonly("dtype", [](const Index& self) { return self.config().dtype; })
      .def_property_readonly("M", [](const Index& self) { return self.config().M; })
      .def_property_readonly("ef_construction", [](const Index& self) { return self.config().ef_construction; })
      .def_property_readonly("seed", [](const Index& self) { return self.config().seed; })
      .def_property_readonly("pq_m", [](const Index& self) { return self.config().store.pq_m; })
      .def_property_readonly("rerank", [](const Index& self) { return self.config().rerank; })
      // ef_search and __len__ are lock-free atomics; everything below that reads index state
      // goes through without_gil (see release_gil.h).
      .def_property("ef_search", &Index::ef_search, &Index::set_ef_search)
      .def_property_readonly("is_trained", [](const Index& self) { return without_gil([&] { return self.is_trained(); }); })
      .def("__len__", &Index::size)
      .def("contains", [](const Index& self, int64_t id) { return without_gil([&] { return self.contains(id); }); },
           py::arg("id"))
      .def("add", [](Index& self, const FloatArray& vectors, std::optional<IdArray> ids, bool replace, size_t threads,
                     const AttributeBatch* attributes, py::object progress) {
             check_matrix(vectors, self.config().dim, "vectors");
             size_t n = size_t(vectors.shape(0));
             const int64_t* id_data = nullptr;
             if (ids) {
               check_ids(*ids);
               if (size_t(ids->shape(0)) != n)
                 throw InvalidArgument("got " + std::to_string(ids->shape(0)) + " ids for " + std::to_string(n) + " vectors");
               id_data = ids->data();
             }
             std::vector<int64_t> assigned;
             ProgressPoll poll(std::move(progress));
             try {
               py::gil_scoped_release release;
               assigned = self.add(vectors.data(), n, id_data, replace, threads, poll.fn(), attributes);
             } catch (const Cancelled&) {
               poll.raise_if_callback_stopped();
               throw;
             }
             IdArray out(assigned.size());
             std::copy(assigned.begin(), assigned.end(), out.mutable_data());
             return out;
           },
           py::arg("vectors"), py::arg("ids"), py::arg("replace"), py::arg("threads"),
           py::arg("attributes") = nullptr, py::arg("progress") = py::none())
      .def("train", [](Index& self, const FloatArray& vectors, size_t threads) {
             check_matrix(vectors, self.config().dim, "training vectors");
             py::gil_scoped_release release;
             self.train(vectors.data(), size_t(vectors.shape(0)), threads);
           },
           py::arg("vectors"), py::arg("threads"))
      .def("search", [](const Index& self, const FloatArray& queries, const SearchParams& params) {
             return search_into_arrays(self, queries, params, [&](size_t nq, int64_t* ids, float* distances,
                                                                  const PollFn& poll, std::vector<std::string>* keys) {
               self.search(queries.data(), nq, params, ids, distances, poll, keys);
             });
           },
           py::arg("queries"), py::arg("params"))
      .def("search_filtered", [](const Index& self, const FloatArray& queries, const SearchParams& params,
                                 const std::vector<PyFilter>& filters, const std::string& strategy) {
             std::vector<FilterExprPtr> exprs;
             for (const auto& filter : filters) exprs.push_back(filter.expr);
             FilterStrategy forced = parse_filter_strategy(strategy);
             return search_into_arrays(self, queries, params, [&](size_t nq, int64_t* ids, float* distances,
                                                                  const PollFn& poll, std::vector<std::string>* keys) {
               self.search_filtered(queries.data(), nq, params, exprs, forced, ids, distances, poll, keys);
             });
           },
           py::arg("queries"), py::arg("params"), py::arg("filters"), py::arg("strategy"))
      .def("explain", [](const Index& self, const PyFilter& filter, const SearchParams& params, const std::string& strategy) {
             FilterPlan plan;
             {
               py::gil_scoped_release release;
               plan = self.explain(*filter.expr, params, parse_filter_strategy(strategy));
             }
             py::dict out;
             out["strategy"] = filter_strategy_name(plan.strategy);
             out["matches"] = plan.matches;
             out["live"] = plan.live;
             out["selectivity"] = plan.selectivity;
             out["ef"] = plan.ef;
             out["visit_budget"] = plan.budget;
             out["reason"] = plan.reason;
             out["filter"] = describe_filter(*filter.expr);
             return out;
           },
           py::arg("filter"), py::arg("params"), py::arg("strategy"))
      .def("get_attributes", [](const Index& self, const IdArray& ids) {
             check_ids(ids);
             std::vector<AttributeRow> rows;
             {
               py::gil_scoped_release release;
               rows = self.get_attributes(ids.data(), size_t(ids.shape(0)));
             }
             return attribute_rows_to_python(self.attribute_schema(), rows);
           },
           py::arg("ids"))
      .def("get", [](const Index& self, const IdArray& ids) {
             check_ids(ids);
             py::array_t<float> out({size_t(ids.shape(0)), self.config().dim});
             float* data = out.mutable_data();
             {
               py::gil_scoped_release release;
               self.get(ids.data(), size_t(ids.shape(0)), data);
             }
             return out;
           },
           py::arg("ids"))
      .def("remove", [](Index& self, const IdArray& ids) {
             check_ids(ids);
             py::gil_scoped_release release;
             self.remove(ids.data(), size_t(ids.shape(0)));
           },
           py::arg("ids"))
      .def("ids", [](const Index& self) {
             std::vector<int64_t> all = without_gil([&] { return self.ids(); });
             IdArray out(all.size());
             std::copy(all.begin(), all.end(), out.mutable_data());
             return out;
           })
      .def("add_keys", [](Index& self, const FloatArray& vectors, const py::handle& keys, bool replace, size_t threads,
                          const AttributeBatch* attributes, py::object progress) {
             check_matrix(vectors, self.config().dim, "vectors");
             std::vector<std::string> key_list = keys_from_python(keys, "keys");
             ProgressPoll poll(std::move(progress));
             try {
               py::gil_scoped_release release;
               self.add_keys(vectors.data(), size_t(vectors.shape(0)), key_list, replace, threads, poll.fn(), attributes);
             } catch (const Cancelled&) {
               poll.raise_if_callback_stopped();
               throw;
             }
           },
           py::arg("vectors"), py::arg("keys"), py::arg("replace"), py::arg("threads"),
           py::arg("attributes") = nullptr, py::arg("progress") = py::none())
      .def("contains_key", [](const Index& self, const std::string& key) {
             return without_gil([&] { return self.contains_key(key); });
           },
           py::arg("key"))
      .def("get_keys", [](const Index& self, const py::handle& keys) {
             std::vector<std::string> key_list = keys_from_python(keys, "keys");
             py::array_t<float> out({key_list.size(), self.config().dim});
             float* data = out.mutable_data();
             {
               py::gil_scoped_release release;
               self.get_keys(key_list, data);
             }
             return out;
           },
           py::arg("keys"))
      .def("get_attributes_keys", [](const Index& self, const py::handle& keys) {
             std::vector<std::string> key_list = keys_from_python(keys, "keys");
             std::vector<AttributeRow> rows = without_gil([&] { return self.get_attributes_keys(key_list); });
             return attribute_rows_to_python(self.attribute_schema(), rows);
           },
           py::arg("keys"))
      .def("remove_keys", [](Index& self, const py::handle& keys) {
             std::vector<std::string> key_list = keys_from_python(keys, "keys");
             py::gil_scoped_release release;
             self.remove_keys(key_list);
           },
           py::arg("keys"))
      .def("keys", [](const Index& self) {
             std::vector<std::string> all = without_gil([&] { return self.keys(); });
             return keys_to_array(all, {py::ssize_t(all.size())});
           })
      .def("to_bytes", [](const Index& self) {
             std::vector<uint8_t> bytes;
             {
               py::gil_scoped_release release;
               bytes = self.to_bytes();
             }
             return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
           })
      .def_static("from_bytes", [](py::buffer data) {
             py::buffer_info info = data.request();
             // Strided views (memoryview(b)[::-1]) would be read as one contiguous run: refuse them.
             if (info.itemsize != 1 || info.ndim != 1 || (info.size > 1 && info.strides[0] != 1))
               throw InvalidArgument("from_bytes() takes contiguous bytes");
             const auto* bytes = static_cast<const uint8_t*>(info.ptr);
             size_t size = size_t(info.size);
             py::gil_scoped_release release;
             return Index::from_bytes(bytes, size);
           },
           py::arg("data"))
      .def("save", [](const Index& self, const std::string& path) {
             py::gil_scoped_release release;
             self.save(path);
           },
           py::arg("path"))
      .def_static("load", [](const std::string& path, bool mmap) {
             py::gil_scoped_release release;
             return Index::load(path, mmap);
           },
           py::arg("path"), py::arg("mmap") = false)
      .def_property_readonly("read_only", &Index::read_only)
      .def("compact", [](Index& self, size_t threads) {
             py::gil_scoped_release release;
             return self.compact(threads);
           },
           py::arg("threads"))
      .def("optimize", [](Index& self, const std::string& method) {
             const ReorderMethod parsed = parse_reorder_method(method);
             py::gil_scoped_release release;
             return self.optimize(parsed);
           },
           py::arg("method"))
      .def("deleted_count", [](const Index& self) { return without_gil([&] { return self.deleted_count(); }); })
      .def("integrity_error", [](const Index& self) { return without_gil([&] { return self.integrity_error(); }); })
      .def("memory_usage", [](const Index& self) { return memory_dict(without_gil([&] { return self.memory_usage(); })); })
      .def("stats", [](const Index& self) {
             IndexStats stats = without_gil([&] { return self.stats(); });
             py::dict out;
             out["levels"] = stats.levels;
             out["mean_degree0"] = stats.mean_degree0;
             out["slots"] = stats.slots;
             out["deleted"] = stats.deleted;
             out["slots_allocated"] = stats.slots_allocated;
             out["size"] = stats.live;
             out["interleaved_walks"] = stats.interleaved_walks;
             out["memory"] = memory_dict(stats.memory);
             return out;
           });
}

}  // namespace vecindex::bindings
