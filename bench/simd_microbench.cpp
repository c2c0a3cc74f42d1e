// Microbenchmark of the f32 distance kernels, scalar vs AVX2 (not a test; no assertions).
//
// Build and run from the repo root (same per-file flags as CMakeLists.txt):
//   g++ -std=c++17 -O3 -Icpp -c cpp/simd/kernels_avx2.cpp -mavx2 -mfma -mf16c -mpopcnt -mbmi2 -o /tmp/k_avx2.o
//   g++ -std=c++17 -O3 -Icpp bench/simd_microbench.cpp cpp/simd/kernels_scalar.cpp /tmp/k_avx2.o -o /tmp/simd_microbench
//   /tmp/simd_microbench [dim]
// Prints ns per distance for a hot pair (L1-resident) and for a pass over a 64 MB set in
// random order (memory-bound, where the x4 kernels keep four misses in flight).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include <time.h>

#include "simd/kernel_table.h"

using vecindex::simd::KernelTable;

namespace {

volatile float sink;

// Thread CPU time, not wall time: the build machines are shared, and time spent descheduled
// says nothing about the kernel. The best of several runs filters the remaining noise.
double thread_cpu_ns() {
  timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e9 + now.tv_nsec;
}

template <class Body>
double best_ns_per_call(size_t calls, Body body) {
  double best = 1e30;
  for (int rep = 0; rep < 9; ++rep) {
    double start = thread_cpu_ns();
    body();
    best = std::min(best, (thread_cpu_ns() - start) / calls);
  }
  return best;
}

double hot_pair(const KernelTable& table, const float* a, const float* b, size_t dim) {
  const size_t calls = 2'000'000;
  return best_ns_per_call(calls, [&] {
    float total = 0;
    for (size_t i = 0; i < calls; ++i) total += table.l2sq(a, b, dim);
    sink = total;
  });
}

double cold_scan(const KernelTable& table, const float* query, const std::vector<float>& data,
                 const std::vector<size_t>& order, size_t dim, bool use_x4) {
  return best_ns_per_call(order.size(), [&] {
    float total = 0;
    if (use_x4) {
      float out[4];
      for (size_t i = 0; i + 4 <= order.size(); i += 4) {
        const float* rows[4] = {&data[order[i] * dim], &data[order[i + 1] * dim],
                                &data[order[i + 2] * dim], &data[order[i + 3] * dim]};
        table.l2sq_x4(query, rows, dim, out);
        total += out[0] + out[1] + out[2] + out[3];
      }
    } else {
      for (size_t id : order) total += table.l2sq(query, &data[id * dim], dim);
    }
    sink = total;
  });
}

}  // namespace

int main(int argc, char** argv) {
  size_t dim = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 384;
  const KernelTable* scalar = vecindex::simd::scalar_kernels();
  const KernelTable* avx2 = vecindex::simd::avx2_kernels();
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::printf("CPU lacks AVX2/FMA\n");
    return 1;
  }
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  size_t count = (64u << 20) / (dim * sizeof(float));
  std::vector<float> data(count * dim);
  for (float& x : data) x = normal(rng);
  std::vector<float> query(dim);
  for (float& x : query) x = normal(rng);
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);

  double hot_scalar = hot_pair(*scalar, query.data(), data.data(), dim);
  double hot_avx2 = hot_pair(*avx2, query.data(), data.data(), dim);
  std::printf("dim %zu  hot l2sq:  scalar %.2f ns  avx2 %.2f ns  speedup %.2fx\n", dim, hot_scalar, hot_avx2,
              hot_scalar / hot_avx2);
  double cold_scalar = cold_scan(*scalar, query.data(), data, order, dim, false);
  double cold_avx2 = cold_scan(*avx2, query.data(), data, order, dim, false);
  double cold_avx2_x4 = cold_scan(*avx2, query.data(), data, order, dim, true);
  std::printf("dim %zu  random 64 MB scan, ns/vector:  scalar %.1f  avx2 %.1f  avx2_x4 %.1f\n", dim,
              cold_scalar, cold_avx2, cold_avx2_x4);
  return 0;
}
