// Typed attribute columns for every internal slot of an index. The index adds a row with
// set_row() when it adds a vector and removes it with clear_row() on delete; filters read
// the columns through filter_eval.h. Not thread-safe for writers: the index serialises
// writes against searches.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "filter/bitmap.h"
#include "filter/keyword_columns.h"
#include "filter/numeric_columns.h"
#include "storage/slot_permutation.h"
#include "util/bytes.h"

namespace vecindex {

enum class AttributeKind : uint8_t { keyword = 0, keywords = 1, int64 = 2, float64 = 3, boolean = 4 };

// "keyword", "keywords", "int", "float", "bool"; throws InvalidArgument for other names.
AttributeKind parse_attribute_kind(const std::string& name);
std::string attribute_kind_name(AttributeKind kind);

struct AttributeField {
  std::string name;
  AttributeKind kind;
};

// One cell: missing (monostate) or a value of the column's kind.
using AttributeValue = std::variant<std::monostate, std::string, std::vector<std::string>, int64_t, double, bool>;
// One value per schema field, in schema order.
using AttributeRow = std::vector<AttributeValue>;

// True for missing values and values of the kind (an int also fits a float field).
bool value_fits_kind(AttributeKind kind, const AttributeValue& value);
// "a string", "an int", ... for error messages.
const char* attribute_value_type_name(const AttributeValue& value);

class AttributeStore {
 public:
  AttributeStore() = default;
  // Field names must be unique and non-empty.
  explicit AttributeStore(std::vector<AttributeField> schema);

  const std::vector<AttributeField>& schema() const { return schema_; }
  // Index of a field; throws InvalidArgument naming the known fields when absent.
  size_t field_index(const std::string& name) const;
  bool has_field(const std::string& name) const;

  // Number of slots the columns cover (the index's slot capacity, not the live count).
  size_t slot_count() const { return slot_count_; }
  void resize(size_t slots);

  // Makes `slot` live with every attribute missing (replacing whatever it held), or with
  // the given row. Slots beyond slot_count() grow the store.
  void set_row(uint32_t slot);
  void set_row(uint32_t slot, const AttributeRow& row);  // checks kinds before changing anything
  void clear_row(uint32_t slot);                         // not live, all attributes missing
  AttributeRow get_row(uint32_t slot) const;              // all missing for a dead slot
  const Bitmap& live() const { return live_; }

  // Per-cell writers for batch loaders; the slot must be live.
  void set_value(size_t field, uint32_t slot, const AttributeValue& value);
  // Finishes a batch: folds pending numeric changes into the sorted range runs.
  void compact();

  // Typed column access; throws InvalidArgument when the field has another kind.
  const KeywordColumn& keyword_column(size_t field) const;
  const KeywordsColumn& keywords_column(size_t field) const;
  const IntColumn& int_column(size_t field) const;
  const FloatColumn& float_column(size_t field) const;
  const BoolColumn& bool_column(size_t field) const;
  const Bitmap& present(size_t field) const;

  // Serialises schema, live rows and columns. load() validates every field and
  // cross-check (codes in range, rows sorted, present rows live) and throws FormatError.
  void save(ByteWriter& out) const;
  static AttributeStore load(ByteReader& in);
  // A copy with each row below permutation.size() moved to its new slot (the index renumbers
  // slots for locality). Every value reads back as before; this store is left as it was, so a
  // failure changes nothing.
  AttributeStore permuted(const SlotPermutation& permutation) const;
  size_t memory_bytes() const;

 private:
  using Column = std::variant<KeywordColumn, KeywordsColumn, IntColumn, FloatColumn, BoolColumn>;
  void clear_cells(uint32_t slot);
  void ensure_slot(uint32_t slot);
  template <typename ColumnType>
  const ColumnType& typed_column(size_t field, const char* wanted) const;

  std::vector<AttributeField> schema_;
  std::vector<Column> columns_;
  Bitmap live_;
  size_t slot_count_ = 0;
};

}  // namespace vecindex
