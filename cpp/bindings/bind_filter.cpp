// Filter expressions and the attribute store, as Python sees them. The Python layer
// (vecindex.filters / vecindex.attributes) validates and normalises user input; this file
// only converts types and releases the GIL around evaluation.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "bindings/bind.h"
#include "bindings/filter_types.h"
#include "bindings/key_convert.h"
#include "filter/attribute_batch.h"
#include "filter/attribute_store.h"
#include "filter/filter_eval.h"
#include "filter/filter_expr.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {

namespace {

FilterLiteral to_literal(const py::handle& value) {
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) {
    int overflow = 0;
    long long integer = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) throw InvalidArgument("filter value " + py::repr(value).cast<std::string>() + " does not fit in int64");
    return static_cast<int64_t>(integer);
  }
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  throw py::type_error("filter values must be str, int, float or bool, not " +
                       py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
}

std::vector<FilterLiteral> to_literals(const py::sequence& values) {
  std::vector<FilterLiteral> out;
  out.reserve(values.size());
  for (const auto& value : values) out.push_back(to_literal(value));
  return out;
}

FilterOp parse_op(const std::string& name) {
  static const std::pair<const char*, FilterOp> ops[] = {
      {"eq", FilterOp::eq}, {"ne", FilterOp::ne}, {"lt", FilterOp::lt}, {"le", FilterOp::le}, {"gt", FilterOp::gt},
      {"ge", FilterOp::ge}, {"isin", FilterOp::isin}, {"contains_any", FilterOp::contains_any},
      {"contains_all", FilterOp::contains_all}, {"and", FilterOp::and_}, {"or", FilterOp::or_}};
  for (const auto& [op_name, op] : ops)
    if (name == op_name) return op;
  throw InvalidArgument("unknown filter operator '" + name + "'");
}

std::vector<uint32_t> to_slots(const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots) {
  if (slots.ndim() != 1) throw InvalidArgument("slots must be a 1-d array");
  return std::vector<uint32_t>(slots.data(), slots.data() + slots.size());
}

template <typename T>
const T* checked_column(const py::array_t<T, py::array::c_style | py::array::forcecast>& values, size_t rows,
                        const char* what) {
  if (values.ndim() != 1 || static_cast<size_t>(values.size()) != rows)
    throw InvalidArgument(std::string(what) + " must be a 1-d array with one entry per row");
  return values.data();
}

using U8Array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

// Sets one numeric or bool column for a batch of live slots; present[i] == 0 means missing.
template <typename T>
void set_column_values(AttributeStore& store, size_t field, const std::vector<uint32_t>& slots,
                       const py::array_t<T, py::array::c_style | py::array::forcecast>& values, const U8Array& present) {
  const T* value_data = checked_column(values, slots.size(), "values");
  const uint8_t* present_data = checked_column(present, slots.size(), "present");
  for (size_t i = 0; i < slots.size(); ++i) {
    if (present_data[i]) store.set_value(field, slots[i], AttributeValue(value_data[i]));
    else store.set_value(field, slots[i], AttributeValue());
  }
  store.compact();
}

py::object value_to_python(const AttributeValue& value) {
  switch (value.index()) {
    case 1: return py::str(std::get<std::string>(value));
    case 2: return py::cast(std::get<std::vector<std::string>>(value));
    case 3: return py::int_(std::get<int64_t>(value));
    case 4: return py::float_(std::get<double>(value));
    case 5: return py::bool_(std::get<bool>(value));
    default: return py::none();
  }
}

template <typename T>
std::vector<AttributeValue> masked_values(const py::array_t<T, py::array::c_style | py::array::forcecast>& values,
                                          const U8Array& present, size_t rows) {
  const T* value_data = checked_column(values, rows, "values");
  const uint8_t* present_data = checked_column(present, rows, "present");
  std::vector<AttributeValue> out(rows);
  for (size_t i = 0; i < rows; ++i)
    if (present_data[i]) {
      if constexpr (std::is_same<T, uint8_t>::value) out[i] = value_data[i] != 0;
      else out[i] = value_data[i];
    }
  return out;
}

std::vector<AttributeField> parse_schema(const std::vector<std::pair<std::string, std::string>>& schema) {
  std::vector<AttributeField> fields;
  for (const auto& [name, kind] : schema) fields.push_back({name, parse_attribute_kind(kind)});
  return fields;
}

}  // namespace

py::list schema_to_python(const std::vector<AttributeField>& schema) {
  py::list out;
  for (const auto& field : schema) out.append(py::make_tuple(field.name, attribute_kind_name(field.kind)));
  return out;
}

py::object attribute_value_to_python(const AttributeValue& value) { return value_to_python(value); }

void bind_filter(py::module_& m) {
  using SlotArray = py::array_t<uint32_t, py::array::c_style | py::array::forcecast>;
  using IntArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
  using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
  py::class_<AttributeBatch>(m, "AttributeBatch", "Attribute columns for a batch of new rows (built by vecindex.attributes).")
      .def(py::init([](const std::vector<std::pair<std::string, std::string>>& schema, size_t rows) {
        return AttributeBatch(parse_schema(schema), rows);
      }), py::arg("schema"), py::arg("rows"))
      .def_property_readonly("rows", &AttributeBatch::rows)
      .def("set_keyword", [](AttributeBatch& self, const std::string& name, const std::vector<std::optional<std::string>>& values) {
        std::vector<AttributeValue> column(values.size());
        for (size_t i = 0; i < values.size(); ++i) if (values[i]) column[i] = *values[i];
        self.set_column(name, std::move(column));
      })
      .def("set_keywords", [](AttributeBatch& self, const std::string& name,
                              const std::vector<std::optional<std::vector<std::string>>>& values) {
        std::vector<AttributeValue> column(values.size());
        for (size_t i = 0; i < values.size(); ++i) if (values[i]) column[i] = *values[i];
        self.set_column(name, std::move(column));
      })
      .def("set_int", [](AttributeBatch& self, const std::string& name, const IntArray& values, const U8Array& present) {
        self.set_column(name, masked_values<int64_t>(values, present, self.rows()));
      })
      .def("set_float", [](AttributeBatch& self, const std::string& name, const DoubleArray& values, const U8Array& present) {
        self.set_column(name, masked_values<double>(values, present, self.rows()));
      })
      .def("set_bool", [](AttributeBatch& self, const std::string& name, const U8Array& values, const U8Array& present) {
        self.set_column(name, masked_values<uint8_t>(values, present, self.rows()));
      });

  py::class_<PyFilter>(m, "FilterExpr", "A compiled filter expression tree (build it with vecindex.F).")
      .def_static("all", [] { return PyFilter{FilterExpr::make_all()}; })
      .def_static("compare", [](const std::string& op, const std::string& field, const py::handle& value) {
        return PyFilter{FilterExpr::make_compare(parse_op(op), field, to_literal(value))};
      })
      .def_static("between", [](const std::string& field, const py::handle& low, const py::handle& high) {
        return PyFilter{FilterExpr::make_between(field, to_literal(low), to_literal(high))};
      })
      .def_static("set", [](const std::string& op, const std::string& field, const py::sequence& values) {
        return PyFilter{FilterExpr::make_set(parse_op(op), field, to_literals(values))};
      })
      .def_static("is_missing", [](const std::string& field) { return PyFilter{FilterExpr::make_is_missing(field)}; })
      .def_static("logic", [](const std::string& op, const std::vector<PyFilter>& children) {
        std::vector<FilterExprPtr> nodes;
        for (const auto& child : children) nodes.push_back(child.expr);
        return PyFilter{FilterExpr::make_logic(parse_op(op), std::move(nodes))};
      })
      .def_static("negate", [](const PyFilter& child) { return PyFilter{FilterExpr::make_not(child.expr)}; })
      .def_static("allow_ids", [](const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& ids) {
        if (ids.ndim() != 1) throw InvalidArgument("an id allow-list must be a 1-d array");
        return PyFilter{FilterExpr::make_allow_ids(std::vector<int64_t>(ids.data(), ids.data() + ids.size()))};
      })
      .def_static("allow_keys", [](const py::handle& keys) { return PyFilter{FilterExpr::make_allow_keys(keys_from_python(keys, "allow-list keys"))}; })
      .def("describe", [](const PyFilter& self) { return describe_filter(*self.expr); })
      .def("__repr__", [](const PyFilter& self) { return "<FilterExpr " + describe_filter(*self.expr) + ">"; });

  py::class_<AttributeStore>(m, "AttributeStore",
                             "Typed attribute columns over internal slots (used by Index; exposed for tests).")
      .def(py::init([](const std::vector<std::pair<std::string, std::string>>& schema) {
        return AttributeStore(parse_schema(schema));
      }), py::arg("schema"))
      .def("write_batch", [](AttributeStore& self, const SlotArray& slots, const AttributeBatch& batch) {
        auto slot_list = to_slots(slots);
        if (slot_list.size() != batch.rows()) throw InvalidArgument("one slot per batch row is required");
        if (!batch.fits(self)) throw InvalidArgument("the batch does not follow this store's schema");
        batch.write(self, slot_list.data());
      })
      .def_property_readonly("schema", [](const AttributeStore& self) {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& field : self.schema()) out.emplace_back(field.name, attribute_kind_name(field.kind));
        return out;
      })
      .def_property_readonly("slot_count", &AttributeStore::slot_count)
      .def_property_readonly("live_count", [](const AttributeStore& self) { return self.live().count(); })
      .def("resize", &AttributeStore::resize)
      .def("add_rows", [](AttributeStore& self, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots) {
        for (uint32_t slot : to_slots(slots)) self.set_row(slot);
      }, "Makes the slots live with every attribute missing.")
      .def("clear_rows", [](AttributeStore& self, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots) {
        for (uint32_t slot : to_slots(slots)) self.clear_row(slot);
        self.compact();
      })
      .def("set_keyword", [](AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slot_array,
                             const std::vector<std::optional<std::string>>& values) {
        size_t field = self.field_index(name);
        self.keyword_column(field);  // kind check before any change
        auto slots = to_slots(slot_array);
        if (values.size() != slots.size()) throw InvalidArgument("one value per slot is required");
        for (size_t i = 0; i < slots.size(); ++i)
          self.set_value(field, slots[i], values[i] ? AttributeValue(*values[i]) : AttributeValue());
      })
      .def("set_keywords", [](AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slot_array,
                              const std::vector<std::optional<std::vector<std::string>>>& values) {
        size_t field = self.field_index(name);
        self.keywords_column(field);
        auto slots = to_slots(slot_array);
        if (values.size() != slots.size()) throw InvalidArgument("one value per slot is required");
        for (size_t i = 0; i < slots.size(); ++i)
          self.set_value(field, slots[i], values[i] ? AttributeValue(*values[i]) : AttributeValue());
      })
      .def("set_int", [](AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots,
                         const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& values, const U8Array& present) {
        size_t field = self.field_index(name);
        self.int_column(field);
        set_column_values<int64_t>(self, field, to_slots(slots), values, present);
      })
      .def("set_float", [](AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots,
                           const py::array_t<double, py::array::c_style | py::array::forcecast>& values, const U8Array& present) {
        size_t field = self.field_index(name);
        self.float_column(field);
        set_column_values<double>(self, field, to_slots(slots), values, present);
      })
      .def("set_bool", [](AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots,
                          const U8Array& values, const U8Array& present) {
        size_t field = self.field_index(name);
        self.bool_column(field);
        auto slot_list = to_slots(slots);
        const uint8_t* value_data = checked_column(values, slot_list.size(), "values");
        const uint8_t* present_data = checked_column(present, slot_list.size(), "present");
        for (size_t i = 0; i < slot_list.size(); ++i)
          self.set_value(field, slot_list[i], present_data[i] ? AttributeValue(value_data[i] != 0) : AttributeValue());
      })
      .def("get_column", [](const AttributeStore& self, const std::string& name, const py::array_t<uint32_t, py::array::c_style | py::array::forcecast>& slots) {
        size_t field = self.field_index(name);
        py::list out;
        for (uint32_t slot : to_slots(slots)) {
          if (slot >= self.slot_count()) {
            out.append(py::none());
            continue;
          }
          out.append(value_to_python(self.get_row(slot)[field]));
        }
        return out;
      }, "Values of one field for the given slots (None where missing).")
      .def("validate", [](const AttributeStore& self, const PyFilter& filter) { validate_filter(*filter.expr, self); })
      .def("match_mask", [](const AttributeStore& self, const PyFilter& filter) {
        Bitmap bits;
        {
          py::gil_scoped_release release;
          bits = evaluate_filter(*filter.expr, self);
        }
        py::array_t<bool> mask(static_cast<py::ssize_t>(bits.size()));
        bool* out = mask.mutable_data();
        for (size_t slot = 0; slot < bits.size(); ++slot) out[slot] = bits.test(static_cast<uint32_t>(slot));
        return mask;
      }, "A bool array over slots: True where the filter matches.")
      .def("count", [](const AttributeStore& self, const PyFilter& filter) {
        py::gil_scoped_release release;
        return evaluate_filter(*filter.expr, self).count();
      }, "The exact number of matching rows.")
      .def("to_bytes", [](const AttributeStore& self) {
        ByteWriter writer;
        self.save(writer);
        const auto& buffer = writer.buffer();
        return py::bytes(reinterpret_cast<const char*>(buffer.data()), buffer.size());
      })
      .def_static("from_bytes", [](const py::bytes& data) {
        std::string_view view = data;
        ByteReader reader(reinterpret_cast<const uint8_t*>(view.data()), view.size(), "attribute store");
        AttributeStore store = AttributeStore::load(reader);
        reader.expect_end();
        return store;
      })
      .def_property_readonly("memory_bytes", &AttributeStore::memory_bytes);
}

}  // namespace vecindex::bindings
