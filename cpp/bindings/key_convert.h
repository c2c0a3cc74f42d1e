// Python <-> core conversion of string keys. Types only: the core checks the keys themselves
// (check_keys in index/key_table.h).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "util/errors.h"

namespace vecindex::bindings {

// A str is one key; any other iterable gives one key per item, each of which must be a str
// (np.str_ included). Anything else raises InvalidArgument (ValueError).
inline std::vector<std::string> keys_from_python(const pybind11::handle& keys, const char* what) {
  std::vector<std::string> out;
  auto append = [&](PyObject* item, size_t position) {
    if (!PyUnicode_Check(item)) {
      throw InvalidArgument(std::string(what) + " must be str; item " + std::to_string(position) + " is " +
                            Py_TYPE(item)->tp_name);
    }
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(item, &size);
    if (!data) {
      PyErr_Clear();
      throw InvalidArgument(std::string(what) + ": item " + std::to_string(position) +
                            " cannot be encoded as UTF-8 (it holds a lone surrogate)");
    }
    out.emplace_back(data, size_t(size));
  };
  if (PyUnicode_Check(keys.ptr())) {
    append(keys.ptr(), 0);
    return out;
  }
  if (PyBytes_Check(keys.ptr()) || !PyObject_HasAttrString(keys.ptr(), "__iter__"))
    throw InvalidArgument(std::string(what) + " must be a str or a sequence of str, not " + Py_TYPE(keys.ptr())->tp_name);
  Py_ssize_t hint = PyObject_LengthHint(keys.ptr(), 0);
  if (hint > 0) out.reserve(size_t(hint));
  size_t position = 0;
  for (pybind11::handle item : keys) append(item.ptr(), position++);
  return out;
}

// A numpy object array of shape `shape` holding the keys as str; "" (no result) becomes None.
inline pybind11::array keys_to_array(const std::vector<std::string>& keys, std::vector<pybind11::ssize_t> shape) {
  pybind11::array out(pybind11::dtype("O"), shape);  // numpy fills object arrays with None
  auto** cells = static_cast<PyObject**>(out.mutable_data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) continue;
    PyObject* text = PyUnicode_DecodeUTF8(keys[i].data(), Py_ssize_t(keys[i].size()), "strict");
    if (!text) throw pybind11::error_already_set();
    Py_XDECREF(cells[i]);
    cells[i] = text;
  }
  return out;
}

}  // namespace vecindex::bindings
