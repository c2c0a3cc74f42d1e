#include <pybind11/stl.h>

#include "bindings/bind.h"
#include "simd/kernels.h"

namespace py = pybind11;

namespace vecindex::bindings {

void bind_simd(py::module_& m) {
  m.def("simd_info", [] {
    py::dict info;
    info["level"] = simd::level_name(simd::active_kernels().level);
    py::list available;
    for (auto level : simd::supported_levels()) available.append(simd::level_name(level));
    info["available"] = available;
    return info;
  }, "The SIMD level in use and the levels this CPU and build support.");
}

}  // namespace vecindex::bindings
