#include "filter/attribute_store.h"

#include <unordered_set>

#include "filter/utf8.h"
#include "util/errors.h"

namespace vecindex {

namespace {

constexpr uint32_t kStoreFormatVersion = 1;
constexpr uint32_t kMaxFields = 4096;
constexpr size_t kMaxFieldNameLength = 1024;
// Slots are uint32 with UINT32_MAX reserved as "none".
constexpr size_t kMaxSlots = UINT32_MAX;

}  // namespace

const char* attribute_value_type_name(const AttributeValue& value) {
  switch (value.index()) {
    case 0: return "missing";
    case 1: return "a string";
    case 2: return "a list of strings";
    case 3: return "an int";
    case 4: return "a float";
    default: return "a bool";
  }
}

bool value_fits_kind(AttributeKind kind, const AttributeValue& value) {
  switch (value.index()) {
    case 0: return true;
    case 1: return kind == AttributeKind::keyword;
    case 2: return kind == AttributeKind::keywords;
    case 3: return kind == AttributeKind::int64 || kind == AttributeKind::float64;
    case 4: return kind == AttributeKind::float64;
    default: return kind == AttributeKind::boolean;
  }
}

AttributeKind parse_attribute_kind(const std::string& name) {
  if (name == "keyword") return AttributeKind::keyword;
  if (name == "keywords") return AttributeKind::keywords;
  if (name == "int") return AttributeKind::int64;
  if (name == "float") return AttributeKind::float64;
  if (name == "bool") return AttributeKind::boolean;
  throw InvalidArgument("unknown attribute kind '" + name + "'; expected keyword, keywords, int, float or bool");
}

std::string attribute_kind_name(AttributeKind kind) {
  switch (kind) {
    case AttributeKind::keyword: return "keyword";
    case AttributeKind::keywords: return "keywords";
    case AttributeKind::int64: return "int";
    case AttributeKind::float64: return "float";
    case AttributeKind::boolean: return "bool";
  }
  return "unknown";
}

AttributeStore::AttributeStore(std::vector<AttributeField> schema) : schema_(std::move(schema)) {
  if (schema_.size() > kMaxFields) throw InvalidArgument("too many attribute fields (at most 4096)");
  std::unordered_set<std::string> names;
  for (const auto& field : schema_) {
    if (field.name.empty()) throw InvalidArgument("attribute field names must be non-empty");
    if (field.name.size() > kMaxFieldNameLength) throw InvalidArgument("attribute field name is too long");
    if (!names.insert(field.name).second) throw InvalidArgument("attribute field '" + field.name + "' is declared twice");
    switch (field.kind) {
      case AttributeKind::keyword: columns_.emplace_back(KeywordColumn{}); break;
      case AttributeKind::keywords: columns_.emplace_back(KeywordsColumn{}); break;
      case AttributeKind::int64: columns_.emplace_back(IntColumn{}); break;
      case AttributeKind::float64: columns_.emplace_back(FloatColumn{}); break;
      case AttributeKind::boolean: columns_.emplace_back(BoolColumn{}); break;
      default: throw InvalidArgument("attribute field '" + field.name + "' has an unknown kind");
    }
  }
}

size_t AttributeStore::field_index(const std::string& name) const {
  for (size_t i = 0; i < schema_.size(); ++i)
    if (schema_[i].name == name) return i;
  std::string known;
  for (const auto& field : schema_) known += (known.empty() ? "" : ", ") + field.name;
  throw InvalidArgument("unknown attribute field '" + name + "'; this index has " +
                        (known.empty() ? std::string("no attribute fields") : "fields: " + known));
}

bool AttributeStore::has_field(const std::string& name) const {
  for (const auto& field : schema_)
    if (field.name == name) return true;
  return false;
}

void AttributeStore::resize(size_t slots) {
  if (slots > kMaxSlots) throw InvalidArgument("too many slots for the attribute store");
  if (slots < slot_count_) {
    // Shrinking drops rows: clear them first so posting lists forget them.
    for (size_t slot = slots; slot < slot_count_; ++slot) clear_row(static_cast<uint32_t>(slot));
  }
  slot_count_ = slots;
  live_.resize(slots);
  for (auto& column : columns_) std::visit([&](auto& typed) { typed.resize(slots); }, column);
}

void AttributeStore::ensure_slot(uint32_t slot) {
  if (slot == UINT32_MAX) throw InvalidArgument("slot out of range");
  if (slot >= slot_count_) resize(std::max<size_t>(size_t{slot} + 1, slot_count_ + slot_count_ / 2));
}

void AttributeStore::clear_cells(uint32_t slot) {
  for (auto& column : columns_) std::visit([&](auto& typed) { typed.clear(slot); }, column);
}

void AttributeStore::set_row(uint32_t slot) {
  ensure_slot(slot);
  clear_cells(slot);
  live_.set(slot);
}

void AttributeStore::set_row(uint32_t slot, const AttributeRow& row) {
  if (row.size() != schema_.size())
    throw InvalidArgument("attribute row has " + std::to_string(row.size()) + " values; the schema has " +
                          std::to_string(schema_.size()) + " fields");
  // Check every kind first so a bad row changes nothing.
  for (size_t field = 0; field < row.size(); ++field) {
    AttributeKind kind = schema_[field].kind;
    if (!value_fits_kind(kind, row[field]))
      throw InvalidArgument("attribute '" + schema_[field].name + "' is " + attribute_kind_name(kind) + " but got " +
                            attribute_value_type_name(row[field]));
  }
  set_row(slot);
  for (size_t field = 0; field < row.size(); ++field) set_value(field, slot, row[field]);
}

void AttributeStore::clear_row(uint32_t slot) {
  if (slot >= slot_count_) return;
  clear_cells(slot);
  live_.reset(slot);
}

void AttributeStore::set_value(size_t field, uint32_t slot, const AttributeValue& value) {
  if (field >= columns_.size()) throw InvalidArgument("attribute field index out of range");
  if (!live_.test(slot)) throw InvalidArgument("cannot set an attribute of a slot that holds no row");
  auto& column = columns_[field];
  if (value.index() == 0) {
    std::visit([&](auto& typed) { typed.clear(slot); }, column);
    return;
  }
  const std::string& name = schema_[field].name;
  auto mismatch = [&]() {
    return InvalidArgument("attribute '" + name + "' is " + attribute_kind_name(schema_[field].kind) + " but got " +
                           attribute_value_type_name(value));
  };
  switch (schema_[field].kind) {
    case AttributeKind::keyword:
      if (value.index() != 1) throw mismatch();
      std::get<KeywordColumn>(column).set(slot, std::get<std::string>(value));
      break;
    case AttributeKind::keywords:
      if (value.index() != 2) throw mismatch();
      std::get<KeywordsColumn>(column).set(slot, std::get<std::vector<std::string>>(value));
      break;
    case AttributeKind::int64:
      if (value.index() != 3) throw mismatch();
      std::get<IntColumn>(column).set(slot, std::get<int64_t>(value));
      break;
    case AttributeKind::float64:
      if (value.index() == 3) std::get<FloatColumn>(column).set(slot, static_cast<double>(std::get<int64_t>(value)));
      else if (value.index() == 4) std::get<FloatColumn>(column).set(slot, std::get<double>(value));
      else throw mismatch();
      break;
    case AttributeKind::boolean:
      if (value.index() != 5) throw mismatch();
      std::get<BoolColumn>(column).set(slot, std::get<bool>(value));
      break;
  }
}

AttributeRow AttributeStore::get_row(uint32_t slot) const {
  AttributeRow row(schema_.size());
  if (!live_.test(slot)) return row;
  for (size_t field = 0; field < columns_.size(); ++field) {
    std::visit([&](const auto& typed) {
      auto value = typed.get(slot);
      if (value) row[field] = *value;
    }, columns_[field]);
  }
  return row;
}

AttributeStore AttributeStore::permuted(const SlotPermutation& permutation) const {
  // A copy keeps every keyword dictionary, so each string keeps its code, and a keywords row
  // lists its strings in the same (code) order as before. Rows are cleared from the last slot
  // down, so each posting list only ever loses its last entry.
  AttributeStore out(*this);
  for (size_t slot = slot_count_; slot-- > 0;)
    if (out.live_.test(uint32_t(slot))) out.clear_row(uint32_t(slot));
  for (size_t slot = 0; slot < slot_count_; ++slot) {
    const uint32_t old = slot < permutation.size() ? permutation.old_slot(uint32_t(slot)) : uint32_t(slot);
    if (live_.test(old)) out.set_row(uint32_t(slot), get_row(old));
  }
  out.compact();
  return out;
}

void AttributeStore::compact() {
  for (auto& column : columns_) {
    if (auto* ints = std::get_if<IntColumn>(&column)) ints->compact();
    if (auto* floats = std::get_if<FloatColumn>(&column)) floats->compact();
  }
}

template <typename ColumnType>
const ColumnType& AttributeStore::typed_column(size_t field, const char* wanted) const {
  if (field >= columns_.size()) throw InvalidArgument("attribute field index out of range");
  const auto* typed = std::get_if<ColumnType>(&columns_[field]);
  if (typed == nullptr)
    throw InvalidArgument("attribute '" + schema_[field].name + "' is " + attribute_kind_name(schema_[field].kind) +
                          ", not " + wanted);
  return *typed;
}

const KeywordColumn& AttributeStore::keyword_column(size_t field) const {
  return typed_column<KeywordColumn>(field, "keyword");
}
const KeywordsColumn& AttributeStore::keywords_column(size_t field) const {
  return typed_column<KeywordsColumn>(field, "keywords");
}
const IntColumn& AttributeStore::int_column(size_t field) const {
  return typed_column<IntColumn>(field, "int");
}
const FloatColumn& AttributeStore::float_column(size_t field) const {
  return typed_column<FloatColumn>(field, "float");
}
const BoolColumn& AttributeStore::bool_column(size_t field) const {
  return typed_column<BoolColumn>(field, "bool");
}

const Bitmap& AttributeStore::present(size_t field) const {
  return std::visit([](const auto& typed) -> const Bitmap& { return typed.present(); }, columns_.at(field));
}

void AttributeStore::save(ByteWriter& out) const {
  out.put<uint32_t>(kStoreFormatVersion);
  out.put<uint32_t>(static_cast<uint32_t>(schema_.size()));
  for (const auto& field : schema_) {
    out.put_string(field.name);
    out.put<uint8_t>(static_cast<uint8_t>(field.kind));
  }
  out.put<uint64_t>(slot_count_);
  save_bitmap(out, live_);
  for (const auto& column : columns_) std::visit([&](const auto& typed) { typed.save(out); }, column);
}

AttributeStore AttributeStore::load(ByteReader& in) {
  auto version = in.get<uint32_t>();
  if (version != kStoreFormatVersion)
    throw FormatError(in.what() + ": attribute store format version " + std::to_string(version) + " is not supported");
  auto field_count = in.get<uint32_t>();
  if (field_count > kMaxFields) throw FormatError(in.what() + ": too many attribute fields");
  std::vector<AttributeField> schema;
  for (uint32_t i = 0; i < field_count; ++i) {
    std::string name = in.get_string(kMaxFieldNameLength);
    if (!is_valid_utf8(name)) throw FormatError(in.what() + ": attribute field name is not valid UTF-8");
    auto kind = in.get<uint8_t>();
    if (kind > static_cast<uint8_t>(AttributeKind::boolean)) throw FormatError(in.what() + ": unknown attribute kind");
    schema.push_back({std::move(name), static_cast<AttributeKind>(kind)});
  }
  AttributeStore store;
  try {
    store = AttributeStore(std::move(schema));
  } catch (const InvalidArgument& e) {
    throw FormatError(in.what() + ": bad attribute schema: " + e.what());
  }
  auto slots = in.get<uint64_t>();
  if (slots > kMaxSlots) throw FormatError(in.what() + ": attribute slot count out of range");
  store.live_ = load_bitmap(in, static_cast<size_t>(slots), "live rows");
  store.slot_count_ = static_cast<size_t>(slots);
  for (size_t field = 0; field < store.columns_.size(); ++field) {
    std::visit([&](auto& typed) { typed.load(in, store.slot_count_); }, store.columns_[field]);
    Bitmap orphans = store.present(field);
    orphans.and_not(store.live_);
    if (orphans.any()) throw FormatError(in.what() + ": attribute '" + store.schema_[field].name + "' has values on dead rows");
  }
  return store;
}

size_t AttributeStore::memory_bytes() const {
  size_t total = live_.words().capacity() * 8;
  for (const auto& column : columns_) total += std::visit([](const auto& typed) { return typed.memory_bytes(); }, column);
  return total;
}

}  // namespace vecindex
