// Binding-side wrapper types shared by bind_filter.cpp and bind_index.cpp, so the index
// binding can accept a filter built by the FilterExpr binding.
#pragma once

#include "filter/filter_expr.h"

namespace vecindex::bindings {

// Holds an immutable expression tree; pybind11 cannot hold shared_ptr<const T> directly.
struct PyFilter {
  FilterExprPtr expr;
};

}  // namespace vecindex::bindings
