// Maps the core's typed exceptions to Python exceptions.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstring>

#include "bindings/bind.h"
#include "bindings/key_convert.h"
#include "bindings/progress_poll.h"
#include "index/index.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {
namespace {
PyObject* cancelled_type = nullptr;  // owned by the module once bind_errors has run

// Messages may quote bytes from an untrusted file or a bytes path; decode them leniently, or a
// strict UTF-8 decode would raise UnicodeDecodeError instead of the intended exception.
void raise_with(py::handle type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, Py_ssize_t(std::strlen(message)), "replace");
  if (!text) return;  // the decode error (out of memory) stays set
  PyErr_SetObject(type.ptr(), text);
  Py_DECREF(text);
}
}  // namespace

py::handle cancelled_error() { return cancelled_type; }

void set_cancellation_error(py::handle type, const std::string& prefix, const Cancelled& error) {
  const auto* add = dynamic_cast<const AddCancelled*>(&error);
  const std::string message =
      add ? prefix + ": " + error.what() + (add->keyed ? " (their keys are in .added_ids)" : " (their ids are in .added_ids)")
          : prefix;
  PyObject* text = PyUnicode_DecodeUTF8(message.data(), Py_ssize_t(message.size()), "replace");
  if (!text) return;
  py::object instance = py::reinterpret_steal<py::object>(PyObject_CallOneArg(type.ptr(), text));
  Py_DECREF(text);
  if (!instance) return;  // the constructor's error stays set
  py::object ids = py::none();
  if (add && add->keyed) {
    ids = keys_to_array(add->added_keys, {py::ssize_t(add->added_keys.size())});
  } else if (add) {
    py::array_t<int64_t> kept(py::ssize_t(add->added_ids.size()));
    std::copy(add->added_ids.begin(), add->added_ids.end(), kept.mutable_data());
    ids = std::move(kept);
  }
  if (PyObject_SetAttrString(instance.ptr(), "added_ids", ids.ptr()) != 0) return;
  PyErr_SetObject(type.ptr(), instance.ptr());
}

void bind_errors(py::module_& m) {
  // An ordinary Exception, not KeyboardInterrupt: cancelling from a callback is a decision the
  // program made, which `except Exception` handlers may catch.
  cancelled_type = PyErr_NewExceptionWithDoc(
      "vecindex.Cancelled",
      "A progress callback returned False and cancelled the call. Work finished before the "
      "cancellation stays (an add keeps the vectors already linked, and `added_ids` holds their "
      "int64 ids; None for other calls); the index remains valid.",
      PyExc_Exception, nullptr);
  if (!cancelled_type) throw py::error_already_set();
  if (PyObject_SetAttrString(cancelled_type, "added_ids", Py_None) != 0) throw py::error_already_set();
  m.add_object("Cancelled", py::reinterpret_borrow<py::object>(cancelled_type));

  static py::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  format_error.doc() = "A file or blob is corrupt, truncated, from a newer format version, or not a vecindex file.";
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const FormatError& e) {
      raise_with(format_error, e.what());
    } catch (const InvalidArgument& e) {
      raise_with(PyExc_ValueError, e.what());
    } catch (const KeyNotFound& e) {
      raise_with(PyExc_KeyError, e.what());
    } catch (const IoError& e) {
      raise_with(PyExc_OSError, e.what());
    } catch (const StateError& e) {
      raise_with(PyExc_RuntimeError, e.what());
    } catch (const Cancelled& e) {
      set_cancellation_error(PyExc_KeyboardInterrupt, "interrupted", e);
    }
  });
}

}  // namespace vecindex::bindings
