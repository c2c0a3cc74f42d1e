// Attribute values for a batch of new rows, converted (and kind-checked) while the caller
// still holds its input, then written in one step under the index's write lock, so a
// search never sees a vector without its attributes.
#pragma once

#include <vector>

#include "filter/attribute_store.h"

namespace vecindex {

class AttributeBatch {
 public:
  AttributeBatch(std::vector<AttributeField> schema, size_t rows) : schema_(std::move(schema)), rows_(rows) {}

  size_t rows() const { return rows_; }
  const std::vector<AttributeField>& schema() const { return schema_; }
  // Sets a whole column (one value per row, monostate = missing). Checks the field exists,
  // the length and every value's kind; throws InvalidArgument.
  void set_column(const std::string& name, std::vector<AttributeValue> values);

  // True when the schemas agree field by field (names and kinds, in order).
  bool fits(const AttributeStore& store) const;
  // Makes every slot live with its values (columns not given are missing).
  void write(AttributeStore& store, const uint32_t* slots) const;

 private:
  std::vector<AttributeField> schema_;
  size_t rows_;
  std::vector<std::pair<size_t, std::vector<AttributeValue>>> columns_;
};

}  // namespace vecindex
