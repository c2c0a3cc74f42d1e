// Maps the core's typed exceptions to Python exceptions.
#include <pybind11/pybind11.h>

#include "bindings/bind.h"
#include "util/errors.h"

namespace py = pybind11;

namespace vecindex::bindings {

void bind_errors(py::module_& m) {
  static py::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  format_error.doc() = "A file or blob is corrupt, truncated, from a newer format version, or not a vecindex file.";
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const FormatError& e) {
      py::set_error(format_error, e.what());
    } catch (const InvalidArgument& e) {
      py::set_error(PyExc_ValueError, e.what());
    } catch (const KeyNotFound& e) {
      py::set_error(PyExc_KeyError, e.what());
    } catch (const IoError& e) {
      py::set_error(PyExc_OSError, e.what());
    } catch (const StateError& e) {
      py::set_error(PyExc_RuntimeError, e.what());
    } catch (const Cancelled& e) {
      py::set_error(PyExc_KeyboardInterrupt, e.what());
    }
  });
}

}  // namespace vecindex::bindings
