#include "bindings/bind.h"

namespace vecindex::bindings {

void bind_filter(pybind11::module_& m) {}

}  // namespace vecindex::bindings
