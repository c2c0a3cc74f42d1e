// A tiny fork-join pool: parallel_for runs work items on std::threads of our own (no OpenMP,
// which fights numpy's and torch's runtimes inside wheels). The calling thread works as one
// of the workers and polls a callback, so the Python layer can turn Ctrl-C into cancellation.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

namespace vecindex {

size_t hardware_threads();

// Resolves a user thread count: 0 means all cores; never more threads than items.
size_t resolve_threads(size_t requested, size_t items);

// Called now and then (about every 50 ms, between the caller's own items and while it waits
// for the others) with the number of items finished so far and the total; returning true
// cancels the remaining items. It runs on the caller's thread, never on another worker, so it
// may take the GIL to report progress to Python.
using PollFn = std::function<bool(size_t done, size_t total)>;

// Runs body(item, worker) for item in [0, count) on `threads` workers, dynamically scheduled
// in chunks. The first exception thrown by any item is rethrown here after all workers stop.
// If poll() returns true, unstarted items are skipped and Cancelled is thrown.
void parallel_for(size_t count, size_t threads, const std::function<void(size_t item, size_t worker)>& body,
                  const PollFn& poll = nullptr);

}  // namespace vecindex
