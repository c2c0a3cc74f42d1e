#include "filter/filter_expr.h"

#include <cctype>
#include <cstdio>

#include "util/errors.h"

namespace vecindex {

namespace {

bool is_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string describe_literal(const FilterLiteral& literal) {
  if (auto* text = std::get_if<std::string>(&literal)) return quote(*text);
  if (auto* integer = std::get_if<int64_t>(&literal)) return std::to_string(*integer);
  if (auto* flag = std::get_if<bool>(&literal)) return *flag ? "True" : "False";
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", std::get<double>(literal));
  return buffer;
}

std::string describe_list(const std::vector<FilterLiteral>& literals) {
  std::string out = "[";
  for (size_t i = 0; i < literals.size(); ++i) out += (i ? ", " : "") + describe_literal(literals[i]);
  return out + "]";
}

std::string describe_field(const std::string& name) {
  return is_identifier(name) ? "F." + name : "F[" + quote(name) + "]";
}

const char* compare_symbol(FilterOp op) {
  switch (op) {
    case FilterOp::eq: return "==";
    case FilterOp::ne: return "!=";
    case FilterOp::lt: return "<";
    case FilterOp::le: return "<=";
    case FilterOp::gt: return ">";
    case FilterOp::ge: return ">=";
    default: return "?";
  }
}

std::shared_ptr<FilterExpr> node(FilterOp op) {
  auto expr = std::make_shared<FilterExpr>();
  expr->op = op;
  return expr;
}

void check_field(const std::string& field) {
  if (field.empty()) throw InvalidArgument("a filter needs a non-empty field name");
}

}  // namespace

std::string filter_op_name(FilterOp op) {
  switch (op) {
    case FilterOp::all: return "all";
    case FilterOp::eq: return "eq";
    case FilterOp::ne: return "ne";
    case FilterOp::lt: return "lt";
    case FilterOp::le: return "le";
    case FilterOp::gt: return "gt";
    case FilterOp::ge: return "ge";
    case FilterOp::between: return "between";
    case FilterOp::isin: return "isin";
    case FilterOp::contains_any: return "contains_any";
    case FilterOp::contains_all: return "contains_all";
    case FilterOp::is_missing: return "is_missing";
    case FilterOp::and_: return "and";
    case FilterOp::or_: return "or";
    case FilterOp::not_: return "not";
    case FilterOp::allow_ids: return "allow_ids";
    case FilterOp::allow_keys: return "allow_keys";
  }
  return "unknown";
}

FilterExprPtr FilterExpr::make_all() { return node(FilterOp::all); }

FilterExprPtr FilterExpr::make_compare(FilterOp op, std::string field, FilterLiteral value) {
  if (op < FilterOp::eq || op > FilterOp::ge) throw InvalidArgument("make_compare needs ==, !=, <, <=, > or >=");
  check_field(field);
  auto expr = node(op);
  expr->field = std::move(field);
  expr->literals.push_back(std::move(value));
  return expr;
}

FilterExprPtr FilterExpr::make_between(std::string field, FilterLiteral low, FilterLiteral high) {
  check_field(field);
  auto expr = node(FilterOp::between);
  expr->field = std::move(field);
  expr->literals = {std::move(low), std::move(high)};
  return expr;
}

FilterExprPtr FilterExpr::make_set(FilterOp op, std::string field, std::vector<FilterLiteral> values) {
  if (op != FilterOp::isin && op != FilterOp::contains_any && op != FilterOp::contains_all)
    throw InvalidArgument("make_set needs isin, contains_any or contains_all");
  check_field(field);
  auto expr = node(op);
  expr->field = std::move(field);
  expr->literals = std::move(values);
  return expr;
}

FilterExprPtr FilterExpr::make_is_missing(std::string field) {
  check_field(field);
  auto expr = node(FilterOp::is_missing);
  expr->field = std::move(field);
  return expr;
}

FilterExprPtr FilterExpr::make_logic(FilterOp op, std::vector<FilterExprPtr> children) {
  if (op != FilterOp::and_ && op != FilterOp::or_) throw InvalidArgument("make_logic needs and or or");
  if (children.empty()) throw InvalidArgument("and/or need at least one operand");
  for (const auto& child : children)
    if (!child) throw InvalidArgument("and/or operand is empty");
  auto expr = node(op);
  expr->children = std::move(children);
  return expr;
}

FilterExprPtr FilterExpr::make_not(FilterExprPtr child) {
  if (!child) throw InvalidArgument("not needs an operand");
  auto expr = node(FilterOp::not_);
  expr->children.push_back(std::move(child));
  return expr;
}

FilterExprPtr FilterExpr::make_allow_ids(std::vector<int64_t> ids) {
  auto expr = node(FilterOp::allow_ids);
  expr->ids = std::move(ids);
  return expr;
}

FilterExprPtr FilterExpr::make_allow_keys(std::vector<std::string> keys) {
  auto expr = node(FilterOp::allow_keys);
  expr->keys = std::move(keys);
  return expr;
}

std::string describe_filter(const FilterExpr& expr) {
  switch (expr.op) {
    case FilterOp::all: return "all rows";
    case FilterOp::eq: case FilterOp::ne: case FilterOp::lt:
    case FilterOp::le: case FilterOp::gt: case FilterOp::ge:
      return describe_field(expr.field) + " " + compare_symbol(expr.op) + " " + describe_literal(expr.literals.at(0));
    case FilterOp::between:
      return describe_field(expr.field) + ".between(" + describe_literal(expr.literals.at(0)) + ", " +
             describe_literal(expr.literals.at(1)) + ")";
    case FilterOp::isin: case FilterOp::contains_any: case FilterOp::contains_all:
      return describe_field(expr.field) + "." + filter_op_name(expr.op) + "(" + describe_list(expr.literals) + ")";
    case FilterOp::is_missing: return describe_field(expr.field) + ".is_missing()";
    case FilterOp::and_: case FilterOp::or_: {
      std::string out;
      for (size_t i = 0; i < expr.children.size(); ++i) {
        if (i) out += expr.op == FilterOp::and_ ? " & " : " | ";
        out += "(" + describe_filter(*expr.children[i]) + ")";
      }
      return out;
    }
    case FilterOp::not_: return "~(" + describe_filter(*expr.children.at(0)) + ")";
    case FilterOp::allow_ids: return "allow-list of " + std::to_string(expr.ids.size()) + " ids";
    case FilterOp::allow_keys: return "allow-list of " + std::to_string(expr.keys.size()) + " keys";
  }
  return "?";
}

}  // namespace vecindex
