#include "bindings/bind.h"

namespace vecindex::bindings { void bind_multivector(pybind11::module_& m); }  // bind_multivector.cpp

PYBIND11_MODULE(_core, m) {
  m.doc() = "vecindex native core (C++17). Use the vecindex package, not this module directly.";
  vecindex::bindings::bind_errors(m);
  vecindex::bindings::bind_simd(m);
  vecindex::bindings::bind_filter(m);
  vecindex::bindings::bind_index(m);
  vecindex::bindings::bind_multivector(m);
}
