// Typed exceptions thrown by the core; the bindings map each to a Python exception.
#pragma once

#include <stdexcept>
#include <string>

namespace vecindex {

// Bad argument from the caller (wrong dim, NaN, k < 1, ...) -> ValueError.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Unknown id -> KeyError.
struct KeyNotFound : std::out_of_range {
  using std::out_of_range::out_of_range;
};

// Corrupt, truncated or foreign file or blob -> vecindex.FormatError (a ValueError).
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// File system failure with the system's reason -> OSError.
struct IoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The operation is not allowed in the index's state (read-only mmap, untrained codec) -> RuntimeError.
struct StateError : std::logic_error {
  using std::logic_error::logic_error;
};

// A long call was interrupted by the caller (Ctrl-C or a progress callback) -> KeyboardInterrupt.
struct Cancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace vecindex
