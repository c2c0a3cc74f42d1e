// simd_info() plus test hooks that run one kernel of one explicit level, so the tests can
// compare every compiled ISA against a numpy reference on the same machine.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>

#include "bindings/bind.h"
#include "simd/chamfer_kernels.h"
#include "simd/codec_kernels.h"
#include "simd/cpu_features.h"
#include "simd/kernels.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Resolves a level name to its table; a level the CPU or build lacks is a ValueError.
const simd::KernelTable& table_for(const std::string& level_name) {
  try {
    return simd::kernels_for(simd::parse_level(level_name));
  } catch (const std::invalid_argument& e) {
    throw InvalidArgument(e.what());
  }
}

bool is_l2sq(const std::string& kernel) {
  if (kernel == "l2sq") return true;
  if (kernel == "dot") return false;
  throw InvalidArgument("unknown kernel '" + kernel + "'; expected 'l2sq' or 'dot'");
}

float kernel_distance(const std::string& level, const std::string& kernel, const FloatArray& a,
                      const FloatArray& b) {
  const simd::KernelTable& table = table_for(level);
  bool l2 = is_l2sq(kernel);
  if (a.ndim() != 1 || b.ndim() != 1)
    throw InvalidArgument("a and b must be 1-D; got " + std::to_string(a.ndim()) + "-D and " +
                          std::to_string(b.ndim()) + "-D");
  if (a.size() != b.size())
    throw InvalidArgument("a has " + std::to_string(a.size()) + " elements but b has " +
                          std::to_string(b.size()));
  auto dim = static_cast<size_t>(a.size());
  return (l2 ? table.l2sq : table.dot)(a.data(), b.data(), dim);
}

// vectors are passed as four separate arrays so the tests control each row's alignment.
py::array_t<float> kernel_distance_x4(const std::string& level, const std::string& kernel,
                                      const FloatArray& query, const std::vector<FloatArray>& vectors) {
  const simd::KernelTable& table = table_for(level);
  bool l2 = is_l2sq(kernel);
  if (vectors.size() != 4)
    throw InvalidArgument("expected exactly 4 vectors, got " + std::to_string(vectors.size()));
  if (query.ndim() != 1) throw InvalidArgument("query must be 1-D");
  const float* rows[4];
  for (size_t j = 0; j < 4; ++j) {
    if (vectors[j].ndim() != 1 || vectors[j].size() != query.size())
      throw InvalidArgument("vector " + std::to_string(j) + " must be 1-D with " +
                            std::to_string(query.size()) + " elements like the query");
    rows[j] = vectors[j].data();
  }
  py::array_t<float> out(4);
  (l2 ? table.l2sq_x4 : table.dot_x4)(query.data(), rows, static_cast<size_t>(query.size()),
                                      out.mutable_data());
  return out;
}

}  // namespace

void bind_simd(py::module_& m) {
  m.def("simd_info", [] {
    py::dict info;
    info["level"] = simd::level_name(simd::active_kernels().level);
    py::list available;
    for (auto level : simd::supported_levels()) available.append(simd::level_name(level));
    info["available"] = available;
    py::dict families;
    families["f32"] = simd::level_name(simd::active_kernels().level);
    families["codec"] = simd::level_name(simd::active_codec_kernels().level);
    families["chamfer"] = simd::level_name(simd::active_chamfer_kernels().level);
    info["families"] = families;
    return info;
  }, "The SIMD level in use ('level': the f32 distance kernels'), the levels this CPU and build "
     "support, and the level of each kernel family ('families': f32, codec, chamfer).");

  m.def("_kernel_distance", &kernel_distance, py::arg("level"), py::arg("kernel"), py::arg("a"),
        py::arg("b"),
        "Test hook: run one pair kernel ('l2sq' or 'dot') of an explicit SIMD level. "
        "ValueError if the level is not available here.");
  m.def("_kernel_distance_x4", &kernel_distance_x4, py::arg("level"), py::arg("kernel"),
        py::arg("query"), py::arg("vectors"),
        "Test hook: run one x4 kernel on a query and a list of 4 vectors; returns 4 float32 values.");

  m.def("_simd_override_problems", [] {
    std::vector<std::string> problems;
    for (const std::string& problem : {simd::simd_override_problem(), simd::f32_override_problem(),
                                       simd::codec_override_problem(), simd::chamfer_override_problem()})
      if (!problem.empty()) problems.push_back(problem);
    return problems;
  }, "Why each ignored VECINDEX_SIMD / VECINDEX_SIMD_<FAMILY> value was ignored (vecindex/__init__.py "
     "warns with each).");
  m.def("_simd_required_features", [](const std::string& level) {
    try {
      return simd::required_features(simd::parse_level(level));
    } catch (const std::invalid_argument& e) {
      throw InvalidArgument(e.what());
    }
  }, py::arg("level"), "Test hook: the CPU extensions and OS register state a SIMD level needs.");
  m.def("_simd_missing_features", [](const std::string& level, py::dict words) {
    simd::CpuidWords cpu;
    cpu.leaf1_ecx = words["leaf1_ecx"].cast<uint32_t>();
    cpu.leaf7_ebx = words["leaf7_ebx"].cast<uint32_t>();
    cpu.leaf7_ecx = words["leaf7_ecx"].cast<uint32_t>();
    cpu.xcr0 = words["xcr0"].cast<uint64_t>();
    try {
      return simd::missing_features(simd::parse_level(level), cpu);
    } catch (const std::invalid_argument& e) {
      throw InvalidArgument(e.what());
    }
  }, py::arg("level"), py::arg("cpuid"),
        "Test hook: the features a level needs that the given cpuid words (a dict with leaf1_ecx, "
        "leaf7_ebx, leaf7_ecx and xcr0) lack.");
  m.def("_simd_cpuid", [] {
    simd::CpuidWords cpu = simd::read_cpuid();
    py::dict words;
    words["leaf1_ecx"] = cpu.leaf1_ecx;
    words["leaf7_ebx"] = cpu.leaf7_ebx;
    words["leaf7_ecx"] = cpu.leaf7_ecx;
    words["xcr0"] = cpu.xcr0;
    return words;
  }, "Test hook: this CPU's cpuid/xgetbv words, as _simd_missing_features takes them.");
}

}  // namespace vecindex::bindings
