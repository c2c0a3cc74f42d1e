#include "filter/attribute_batch.h"

#include "util/errors.h"

namespace vecindex {

void AttributeBatch::set_column(const std::string& name, std::vector<AttributeValue> values) {
  size_t field = schema_.size();
  for (size_t i = 0; i < schema_.size(); ++i)
    if (schema_[i].name == name) field = i;
  if (field == schema_.size()) throw InvalidArgument("unknown attribute '" + name + "'");
  if (values.size() != rows_)
    throw InvalidArgument("attribute '" + name + "' has " + std::to_string(values.size()) + " values; expected " +
                          std::to_string(rows_) + " (one per vector)");
  const AttributeKind kind = schema_[field].kind;
  for (size_t row = 0; row < values.size(); ++row)
    if (!value_fits_kind(kind, values[row]))
      throw InvalidArgument("attribute '" + name + "' is " + attribute_kind_name(kind) + ": row " + std::to_string(row) +
                            " holds " + attribute_value_type_name(values[row]));
  for (auto& column : columns_) {
    if (column.first == field) {
      column.second = std::move(values);
      return;
    }
  }
  columns_.emplace_back(field, std::move(values));
}

bool AttributeBatch::fits(const AttributeStore& store) const {
  const auto& other = store.schema();
  if (other.size() != schema_.size()) return false;
  for (size_t i = 0; i < schema_.size(); ++i)
    if (other[i].name != schema_[i].name || other[i].kind != schema_[i].kind) return false;
  return true;
}

void AttributeBatch::write(AttributeStore& store, const uint32_t* slots) const {
  for (size_t row = 0; row < rows_; ++row) store.set_row(slots[row]);
  for (const auto& [field, values] : columns_)
    for (size_t row = 0; row < rows_; ++row)
      if (values[row].index() != 0) store.set_value(field, slots[row], values[row]);
  store.compact();
}

}  // namespace vecindex
