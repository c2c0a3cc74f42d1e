#include "util/parallel.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "util/errors.h"

namespace vecindex {

size_t hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

size_t resolve_threads(size_t requested, size_t items) {
  size_t threads = requested == 0 ? hardware_threads() : requested;
  return std::max<size_t>(1, std::min(threads, std::max<size_t>(items, 1)));
}

void parallel_for(size_t count, size_t threads, const std::function<void(size_t, size_t)>& body,
                  const PollFn& poll) {
  if (count == 0) return;
  threads = resolve_threads(threads, count);
  std::atomic<size_t> next{0};
  // Finished items, counted once per chunk so the hot loop stays free of shared writes.
  std::atomic<size_t> finished{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  // Small chunks keep the load balanced; items (queries, inserts) are coarse already.
  const size_t chunk = std::max<size_t>(1, std::min<size_t>(64, count / (threads * 16) + 1));

  auto worker = [&](size_t worker_id) {
    while (!stop.load(std::memory_order_relaxed)) {
      size_t begin = next.fetch_add(chunk);
      if (begin >= count) break;
      size_t end = std::min(count, begin + chunk);
      try {
        for (size_t item = begin; item < end && !stop.load(std::memory_order_relaxed); ++item) body(item, worker_id);
        finished.fetch_add(end - begin, std::memory_order_relaxed);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        stop = true;
      }
    }
  };

  bool cancelled = false;
  if (threads == 1) {
    // Inline on the caller's thread (no thread start-up cost for small calls); poll between
    // items at most every 50 ms.
    auto last_poll = std::chrono::steady_clock::now();
    for (size_t item = 0; item < count; ++item) {
      if (poll) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_poll > std::chrono::milliseconds(50)) {
          last_poll = now;
          if (poll(item, count)) {
            cancelled = true;
            break;
          }
        }
      }
      body(item, 0);
    }
  } else {
    std::vector<std::thread> pool;
    std::atomic<size_t> running{threads};
    std::mutex done_mutex;
    std::condition_variable done;
    pool.reserve(threads);
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        worker(t);
        std::lock_guard<std::mutex> lock(done_mutex);
        if (--running == 0) done.notify_all();
      });
    }
    {
      std::unique_lock<std::mutex> lock(done_mutex);
      while (running > 0) {
        done.wait_for(lock, std::chrono::milliseconds(50));
        if (poll && running > 0) {
          lock.unlock();
          if (!cancelled && poll(std::min(count, finished.load(std::memory_order_relaxed)), count)) {
            cancelled = true;
            stop = true;
          }
          lock.lock();
        }
      }
    }
    for (auto& thread : pool) thread.join();
  }
  if (first_error) std::rethrow_exception(first_error);
  if (cancelled) throw Cancelled("interrupted");
}

}  // namespace vecindex
