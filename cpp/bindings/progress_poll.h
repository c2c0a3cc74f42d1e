// The poll callback handed to long native calls (add, search): it checks Ctrl-C and reports
// progress to an optional Python callable. parallel_for calls it from the coordinating thread
// about every 50 ms; it takes the GIL only for that moment, so the workers never wait on Python.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <memory>
#include <string>

#include "util/errors.h"
#include "util/parallel.h"

namespace vecindex::bindings {

// The Python exception raised when a progress callback cancels a call (vecindex.Cancelled).
pybind11::handle cancelled_error();

// Sets `type` (Cancelled or KeyboardInterrupt) as the Python error for a stopped call. For a
// stopped add (AddCancelled) the message gives the count kept and the exception instance
// carries `added_ids`, the int64 ids of the vectors that stayed; otherwise added_ids is None.
void set_cancellation_error(pybind11::handle type, const std::string& prefix, const Cancelled& error);

class ProgressPoll {
 public:
  // `callback` is None or callable(done, total) -> bool; returning False cancels the call.
  // Construct and destroy with the GIL held (it owns a Python reference).
  explicit ProgressPoll(pybind11::object callback = pybind11::none()) : callback_(std::move(callback)) {}

  // The PollFn to pass into the core; it refers to this object, which must outlive the call.
  PollFn fn() {
    return [this](size_t done, size_t total) { return poll(done, total); };
  }

  // Call with the GIL held from the handler that caught the core's Cancelled: if the callback
  // stopped the call (returned False or raised), raise that as a Python error; otherwise
  // return, and the caller rethrows the Cancelled, which becomes KeyboardInterrupt (Ctrl-C).
  void raise_if_callback_stopped() {
    if (callback_error_) {
      std::unique_ptr<pybind11::error_already_set> error = std::move(callback_error_);
      throw pybind11::error_already_set(*error);
    }
    if (callback_cancelled_) {
      try {
        std::rethrow_exception(std::current_exception());
      } catch (const Cancelled& stopped) {
        set_cancellation_error(cancelled_error(), "cancelled by the progress callback", stopped);
      }
      throw pybind11::error_already_set();
    }
  }

 private:
  bool poll(size_t done, size_t total) {
    pybind11::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();  // the native call raises KeyboardInterrupt itself once workers stop
      return true;
    }
    if (callback_.is_none()) return false;
    try {
      pybind11::object answer = callback_(done, total);
      // None (a callback that returns nothing) continues; only an explicit false value cancels.
      if (!answer.is_none() && !answer.cast<bool>()) {
        callback_cancelled_ = true;
        return true;
      }
    } catch (pybind11::error_already_set& error) {
      callback_error_ = std::make_unique<pybind11::error_already_set>(std::move(error));
      return true;
    } catch (const pybind11::cast_error&) {
      return false;  // an answer that is not a bool does not cancel
    }
    return false;
  }

  pybind11::object callback_;
  bool callback_cancelled_ = false;
  std::unique_ptr<pybind11::error_already_set> callback_error_;
};

}  // namespace vecindex::bindings
