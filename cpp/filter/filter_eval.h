// Compiles a filter expression against an attribute store into a match Bitmap (one bit
// per slot; only live rows can match). Semantics, chosen to match the Python reference:
// - a missing value matches no comparison (not even !=) and no set test; only
//   is_missing() and negations (~) select missing rows;
// - int columns compare exactly against float literals (size < 2.5 means size <= 2);
// - NaN literals match nothing; NaN values are stored as missing.
#pragma once

#include <cstdint>
#include <functional>

#include "filter/attribute_store.h"
#include "filter/bitmap.h"
#include "filter/filter_expr.h"

namespace vecindex {

// Maps an external id to its slot; returns false for unknown ids (they match nothing).
using SlotResolver = std::function<bool(int64_t id, uint32_t& slot)>;

// Throws InvalidArgument for unknown fields and operator/literal types the field's kind
// does not support, with a message naming the field, its kind and what was given.
void validate_filter(const FilterExpr& expr, const AttributeStore& store);

// Validates, then evaluates. Without a resolver, allow-list ids are slots.
Bitmap evaluate_filter(const FilterExpr& expr, const AttributeStore& store, const SlotResolver& resolver = nullptr);

}  // namespace vecindex
