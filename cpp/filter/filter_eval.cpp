#include "filter/filter_eval.h"

#include <cmath>
#include <limits>

#include "util/errors.h"

namespace vecindex {

namespace {

constexpr double kTwoPow63 = 9223372036854775808.0;
constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();

bool is_number(const FilterLiteral& literal) {
  return std::holds_alternative<int64_t>(literal) || std::holds_alternative<double>(literal);
}

const char* literal_type(const FilterLiteral& literal) {
  if (std::holds_alternative<std::string>(literal)) return "a string";
  if (std::holds_alternative<int64_t>(literal)) return "an int";
  if (std::holds_alternative<double>(literal)) return "a float";
  return "a bool";
}

// Does a literal fit a column kind for equality-like tests?
bool literal_fits(AttributeKind kind, const FilterLiteral& literal) {
  switch (kind) {
    case AttributeKind::keyword:
    case AttributeKind::keywords: return std::holds_alternative<std::string>(literal);
    case AttributeKind::int64:
    case AttributeKind::float64: return is_number(literal);
    case AttributeKind::boolean: return std::holds_alternative<bool>(literal);
  }
  return false;
}

const char* expected_literal(AttributeKind kind) {
  switch (kind) {
    case AttributeKind::keyword:
    case AttributeKind::keywords: return "strings";
    case AttributeKind::int64:
    case AttributeKind::float64: return "numbers";
    default: return "True or False";
  }
}

void validate_leaf(const FilterExpr& expr, const AttributeStore& store) {
  size_t field = store.field_index(expr.field);
  AttributeKind kind = store.schema()[field].kind;
  auto fail = [&](const std::string& why) {
    throw InvalidArgument("filter " + describe_filter(expr) + ": attribute '" + expr.field + "' is " +
                          attribute_kind_name(kind) + "; " + why);
  };
  auto check_literals = [&]() {
    for (const auto& literal : expr.literals)
      if (!literal_fits(kind, literal))
        fail(std::string("it compares with ") + expected_literal(kind) + ", not " + literal_type(literal));
  };
  switch (expr.op) {
    case FilterOp::eq:
    case FilterOp::ne:
    case FilterOp::isin:
      if (kind == AttributeKind::keywords) fail("use contains_any([...]) or contains_all([...]) on a set of keywords");
      check_literals();
      break;
    case FilterOp::lt: case FilterOp::le: case FilterOp::gt: case FilterOp::ge: case FilterOp::between:
      if (kind != AttributeKind::int64 && kind != AttributeKind::float64)
        fail("<, <=, >, >= and between() need an int or float attribute");
      check_literals();
      break;
    case FilterOp::contains_any:
    case FilterOp::contains_all:
      if (kind != AttributeKind::keywords) fail("contains(), contains_any() and contains_all() need a keywords attribute; compare a keyword "
                "with == or isin() (there is no substring matching)");
      check_literals();
      break;
    default: break;
  }
}

// ---- numeric literal -> closed range on the column's own type ----------------------

// Closed int64 interval for "value OP literal", or false when nothing can match.
bool int_range(FilterOp op, const FilterLiteral& literal, int64_t& low, int64_t& high) {
  low = kIntMin;
  high = kIntMax;
  if (auto* integer = std::get_if<int64_t>(&literal)) {
    int64_t v = *integer;
    switch (op) {
      case FilterOp::eq: low = high = v; return true;
      case FilterOp::lt: if (v == kIntMin) return false; high = v - 1; return true;
      case FilterOp::le: high = v; return true;
      case FilterOp::gt: if (v == kIntMax) return false; low = v + 1; return true;
      case FilterOp::ge: low = v; return true;
      default: return false;
    }
  }
  double x = std::get<double>(literal);
  if (std::isnan(x)) return false;
  switch (op) {
    case FilterOp::eq:
      if (x != std::floor(x) || x < -kTwoPow63 || x >= kTwoPow63) return false;
      low = high = static_cast<int64_t>(x);
      return true;
    case FilterOp::lt: {  // value <= ceil(x) - 1
      double c = std::ceil(x);
      if (c <= -kTwoPow63) return false;
      if (c < kTwoPow63) high = static_cast<int64_t>(c) - 1;
      return true;
    }
    case FilterOp::le: {  // value <= floor(x)
      double f = std::floor(x);
      if (f < -kTwoPow63) return false;
      if (f < kTwoPow63) high = static_cast<int64_t>(f);
      return true;
    }
    case FilterOp::gt: {  // value >= floor(x) + 1
      double f = std::floor(x);
      if (f >= kTwoPow63) return false;
      if (f >= -kTwoPow63) low = static_cast<int64_t>(f) + 1;
      return true;
    }
    case FilterOp::ge: {  // value >= ceil(x)
      double c = std::ceil(x);
      if (c >= kTwoPow63) return false;
      if (c >= -kTwoPow63) low = static_cast<int64_t>(c);
      return true;
    }
    default: return false;
  }
}

bool float_range(FilterOp op, const FilterLiteral& literal, double& low, double& high) {
  double x = std::holds_alternative<int64_t>(literal) ? static_cast<double>(std::get<int64_t>(literal))
                                                      : std::get<double>(literal);
  constexpr double inf = std::numeric_limits<double>::infinity();
  low = -inf;
  high = inf;
  if (std::isnan(x)) return false;
  switch (op) {
    case FilterOp::eq: low = high = x; return true;
    case FilterOp::lt: if (x == -inf) return false; high = std::nextafter(x, -inf); return true;
    case FilterOp::le: high = x; return true;
    case FilterOp::gt: if (x == inf) return false; low = std::nextafter(x, inf); return true;
    case FilterOp::ge: low = x; return true;
    default: return false;
  }
}

// ORs into `out` the rows where the numeric column satisfies "value OP literal".
void mark_numeric(const AttributeStore& store, size_t field, FilterOp op, const FilterLiteral& literal, Bitmap& out) {
  if (store.schema()[field].kind == AttributeKind::int64) {
    int64_t low, high;
    if (int_range(op, literal, low, high)) store.int_column(field).match_range({low, high}, out);
  } else {
    double low, high;
    if (float_range(op, literal, low, high)) store.float_column(field).match_range({low, high}, out);
  }
}

// ORs into `out` the rows whose value equals the literal (any non-set kind).
void mark_equal(const AttributeStore& store, size_t field, const FilterLiteral& literal, Bitmap& out) {
  switch (store.schema()[field].kind) {
    case AttributeKind::keyword: store.keyword_column(field).match_equal(std::get<std::string>(literal), out); break;
    case AttributeKind::boolean: store.bool_column(field).match_equal(std::get<bool>(literal), out); break;
    default: mark_numeric(store, field, FilterOp::eq, literal, out); break;
  }
}

std::vector<std::string> strings_of(const std::vector<FilterLiteral>& literals) {
  std::vector<std::string> out;
  out.reserve(literals.size());
  for (const auto& literal : literals) out.push_back(std::get<std::string>(literal));
  return out;
}

Bitmap evaluate_node(const FilterExpr& expr, const AttributeStore& store, const SlotResolver& resolver) {
  const size_t slots = store.slot_count();
  Bitmap out(slots);
  switch (expr.op) {
    case FilterOp::all: return store.live();
    case FilterOp::eq: mark_equal(store, store.field_index(expr.field), expr.literals[0], out); return out;
    case FilterOp::ne: {
      size_t field = store.field_index(expr.field);
      mark_equal(store, field, expr.literals[0], out);
      Bitmap result = store.present(field);
      return result.and_not(out);
    }
    case FilterOp::lt: case FilterOp::le: case FilterOp::gt: case FilterOp::ge:
      mark_numeric(store, store.field_index(expr.field), expr.op, expr.literals[0], out);
      return out;
    case FilterOp::between: {
      size_t field = store.field_index(expr.field);
      Bitmap upper(slots);
      mark_numeric(store, field, FilterOp::ge, expr.literals[0], out);
      mark_numeric(store, field, FilterOp::le, expr.literals[1], upper);
      return out &= upper;
    }
    case FilterOp::isin: {
      size_t field = store.field_index(expr.field);
      for (const auto& literal : expr.literals) mark_equal(store, field, literal, out);
      return out;
    }
    case FilterOp::contains_any:
      store.keywords_column(store.field_index(expr.field)).match_any(strings_of(expr.literals), out);
      return out;
    case FilterOp::contains_all:
      store.keywords_column(store.field_index(expr.field)).match_all(strings_of(expr.literals), out);
      return out;
    case FilterOp::is_missing: {
      Bitmap result = store.live();
      return result.and_not(store.present(store.field_index(expr.field)));
    }
    case FilterOp::and_: {
      Bitmap result = evaluate_node(*expr.children[0], store, resolver);
      for (size_t i = 1; i < expr.children.size() && result.any(); ++i) result &= evaluate_node(*expr.children[i], store, resolver);
      return result;
    }
    case FilterOp::or_: {
      Bitmap result = evaluate_node(*expr.children[0], store, resolver);
      for (size_t i = 1; i < expr.children.size(); ++i) result |= evaluate_node(*expr.children[i], store, resolver);
      return result;
    }
    case FilterOp::not_: {
      Bitmap result = store.live();
      return result.and_not(evaluate_node(*expr.children[0], store, resolver));
    }
    case FilterOp::allow_ids: {
      for (int64_t id : expr.ids) {
        uint32_t slot = 0;
        if (resolver) {
          if (!resolver(id, slot)) continue;
        } else {
          if (id < 0 || static_cast<uint64_t>(id) >= slots) continue;
          slot = static_cast<uint32_t>(id);
        }
        if (slot < slots) out.set(slot);
      }
      return out &= store.live();
    }
    case FilterOp::allow_keys:
      throw InvalidArgument("an allow-list of string keys needs an index made with keys='str'");
  }
  throw InvalidArgument("unknown filter operator");
}

void validate_node(const FilterExpr& expr, const AttributeStore& store, size_t depth) {
  // Deep trees would recurse deeply while evaluating; no real filter needs this many levels.
  if (depth > 1000) throw InvalidArgument("filter expression is nested too deeply (more than 1000 levels)");
  if (!expr.field.empty()) validate_leaf(expr, store);
  for (const auto& child : expr.children) validate_node(*child, store, depth + 1);
}

}  // namespace

void validate_filter(const FilterExpr& expr, const AttributeStore& store) { validate_node(expr, store, 0); }

Bitmap evaluate_filter(const FilterExpr& expr, const AttributeStore& store, const SlotResolver& resolver) {
  validate_filter(expr, store);
  Bitmap result = evaluate_node(expr, store, resolver);
  return result &= store.live();
}

}  // namespace vecindex
