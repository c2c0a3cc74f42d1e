// The rule every binding that enters the core follows: no core lock is waited on with the GIL
// held. A long add or search holds the index's structure lock while its poll (Ctrl-C,
// progress) takes the GIL every 50 ms; a thread holding the GIL while waiting for that lock
// would deadlock with it. Python objects are built only after the GIL is back.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

namespace vecindex::bindings {

// Runs `call` (which must not touch Python objects) with the GIL released and returns its
// result as a plain C++ value.
template <class Call>
auto without_gil(Call&& call) {
  pybind11::gil_scoped_release release;
  return std::forward<Call>(call)();
}

}  // namespace vecindex::bindings
