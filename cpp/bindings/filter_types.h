// Binding-side wrapper types shared by bind_filter.cpp and bind_index.cpp, so the index
// binding can accept a filter built by the FilterExpr binding.
#pragma once

#include <pybind11/pybind11.h>

#include "filter/attribute_store.h"
#include "filter/filter_expr.h"

namespace vecindex::bindings {

// Holds an immutable expression tree; pybind11 cannot hold shared_ptr<const T> directly.
struct PyFilter {
  FilterExprPtr expr;
};

// [(name, kind), ...] as Python sees a schema.
pybind11::list schema_to_python(const std::vector<AttributeField>& schema);
// str / list[str] / int / float / bool, or None when missing.
pybind11::object attribute_value_to_python(const AttributeValue& value);

}  // namespace vecindex::bindings
