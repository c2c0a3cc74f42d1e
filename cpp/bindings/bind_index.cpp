#include "bindings/bind.h"

namespace vecindex::bindings {

void bind_index(pybind11::module_& m) {}

}  // namespace vecindex::bindings
