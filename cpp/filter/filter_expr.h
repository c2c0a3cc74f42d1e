// The filter expression tree that the Python DSL (vecindex.F) builds. Nodes are immutable
// and shared, so one expression can be evaluated for many queries and threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace vecindex {

enum class FilterOp : uint8_t {
  all,           // every live row
  eq, ne, lt, le, gt, ge,
  between,       // low <= value <= high (both inclusive)
  isin,          // value equals one of the literals
  contains_any,  // keywords: the row's set holds at least one literal
  contains_all,  // keywords: the row's set holds every literal
  is_missing,
  and_, or_, not_,
  allow_ids,     // an allow-list of external ids
  allow_keys,    // an allow-list of string keys (an index with keys="str" turns it into allow_ids)
};

// A literal from the user: string, int, float or bool.
using FilterLiteral = std::variant<std::string, int64_t, double, bool>;

struct FilterExpr;
using FilterExprPtr = std::shared_ptr<const FilterExpr>;

struct FilterExpr {
  FilterOp op = FilterOp::all;
  std::string field;                    // leaves on a column
  std::vector<FilterLiteral> literals;  // comparisons: 1, between: 2, isin / contains_*: any
  std::vector<FilterExprPtr> children;  // and / or: >= 1, not: 1
  std::vector<int64_t> ids;             // allow_ids
  std::vector<std::string> keys;        // allow_keys

  // Factories check arity; field-level type checks happen when evaluated against a schema.
  static FilterExprPtr make_all();
  static FilterExprPtr make_compare(FilterOp op, std::string field, FilterLiteral value);
  static FilterExprPtr make_between(std::string field, FilterLiteral low, FilterLiteral high);
  static FilterExprPtr make_set(FilterOp op, std::string field, std::vector<FilterLiteral> values);
  static FilterExprPtr make_is_missing(std::string field);
  static FilterExprPtr make_logic(FilterOp op, std::vector<FilterExprPtr> children);
  static FilterExprPtr make_not(FilterExprPtr child);
  static FilterExprPtr make_allow_ids(std::vector<int64_t> ids);
  static FilterExprPtr make_allow_keys(std::vector<std::string> keys);
};

// Human-readable form, in the DSL's own syntax (used by repr and explain).
std::string describe_filter(const FilterExpr& expr);
std::string filter_op_name(FilterOp op);

}  // namespace vecindex
