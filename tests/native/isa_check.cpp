// Runs every kernel of one ISA (f32, codec and Chamfer families) against the scalar reference
// on random inputs; needs neither Python nor pybind11. Built two ways:
//   - for aarch64 with the NEON files, run under qemu-aarch64 (tests/test_neon_cross.py);
//   - with -DVECINDEX_CHECK_AVX512, for any x86-64 CPU with the AVX-512 files compiled against
//     SIMDe's portable AVX-512 intrinsics (tests/native/simde_avx512/immintrin.h), because no
//     emulator here runs AVX-512 (tests/test_avx512_emulated.py).
//
// Integer kernels (SQ8 int16, popcounts, bitplane) and the exact f16 decode must match exactly.
// Float kernels sum in a different order than the scalar code, so they must agree within
// kRelTol of the sum of the absolute values of their terms (the scale of the rounding error).
// nearest_centroid must return the scalar index, or one whose score is within tolerance of it;
// between bit-identical centroids it must pick the lowest index, as the scalar kernel does.
//
// Every input ends at (or one element before) an inaccessible guard page, so a kernel whose
// tail reads past its input crashes instead of passing by luck.
//
// The NEON build is also linked with the dispatch files, to check that an aarch64 build hands
// out the NEON tables (the strong getters replace the weak nullptr fallbacks).
//
// Usage: isa_check [seed]. Prints one line per failure (first few per kernel) and a summary;
// exit code 0 only when every comparison passed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "simd/chamfer_kernels.h"
#include "simd/codec_kernels.h"
#include "simd/half_convert.h"
#include "simd/kernels.h"

namespace simd = vecindex::simd;

namespace {

#if defined(VECINDEX_CHECK_AVX512)
constexpr simd::Level kLevel = simd::Level::avx512;
const simd::KernelTable* isa_kernels() { return simd::avx512_kernels(); }
const simd::CodecKernelTable* isa_codec_kernels() { return simd::avx512_codec_kernels(); }
const simd::ChamferKernelTable* isa_chamfer_kernels() { return simd::avx512_chamfer_kernels(); }
#else
constexpr simd::Level kLevel = simd::Level::neon;
const simd::KernelTable* isa_kernels() { return simd::neon_kernels(); }
const simd::CodecKernelTable* isa_codec_kernels() { return simd::neon_codec_kernels(); }
const simd::ChamferKernelTable* isa_chamfer_kernels() { return simd::neon_chamfer_kernels(); }
#endif

constexpr double kRelTol = 1e-5;
constexpr int kTrials = 6;
constexpr int kMaxReportsPerKernel = 5;

struct Stats {
  long cases = 0;
  long failures = 0;
  double worst_ratio = 0;  // largest |isa - scalar| / tolerance seen (floats only)
};

std::map<std::string, Stats> g_stats;
std::mt19937_64 g_rng;

std::vector<size_t> test_dims() {
  std::vector<size_t> dims;
  for (size_t d = 0; d <= 70; ++d) dims.push_back(d);
  for (size_t d : {100, 127, 128, 129, 255, 256, 257, 384, 385}) dims.push_back(d);
  return dims;
}

void record_exact(const char* kernel, size_t n, uint64_t isa, uint64_t scalar) {
  Stats& s = g_stats[kernel];
  ++s.cases;
  if (isa == scalar) return;
  if (++s.failures <= kMaxReportsPerKernel)
    std::printf("FAIL %s n=%zu: isa=%llu scalar=%llu\n", kernel, n, static_cast<unsigned long long>(isa),
                static_cast<unsigned long long>(scalar));
}

void record_float(const char* kernel, size_t n, double isa, double scalar, double scale) {
  Stats& s = g_stats[kernel];
  ++s.cases;
  double tolerance = kRelTol * scale + 1e-30;
  double ratio = std::fabs(isa - scalar) / tolerance;
  if (ratio > s.worst_ratio || std::isnan(ratio)) s.worst_ratio = ratio;
  if (ratio <= 1.0) return;  // also rejects NaN
  if (++s.failures <= kMaxReportsPerKernel)
    std::printf("FAIL %s n=%zu: isa=%.9g scalar=%.9g tolerance=%.3g\n", kernel, n, isa, scalar, tolerance);
}

float normal() { return std::normal_distribution<float>(0.0f, 1.0f)(g_rng); }
uint64_t bits64() { return g_rng(); }
size_t below(size_t n) { return static_cast<size_t>(g_rng() % n); }

// n elements ending at an inaccessible page (on odd trials one element before it, so loads are
// also unaligned differently): a read past the end faults.
template <class T>
class Buffer {
 public:
  Buffer(size_t n, int trial) {
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t bytes = (n + 1) * sizeof(T);
    size_t data_pages = (bytes + page - 1) / page;
    mapping_size_ = (data_pages + 1) * page;
    void* map = mmap(nullptr, mapping_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) std::abort();
    mapping_ = static_cast<char*>(map);
    if (mprotect(mapping_ + data_pages * page, page, PROT_NONE) != 0) std::abort();
    T* end = reinterpret_cast<T*>(mapping_ + data_pages * page) - (trial & 1);
    data_ = end - n;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { munmap(mapping_, mapping_size_); }
  T* data() { return data_; }
  T& operator[](size_t i) { return data_[i]; }

 private:
  char* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  T* data_ = nullptr;
};

void fill_normal(Buffer<float>& out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = normal();
}

// ---- f32 family ----------------------------------------------------------------------------

void check_f32(const simd::KernelTable& isa, const simd::KernelTable& scalar) {
  for (size_t dim : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<float> q(dim, trial), x0(dim, trial), x1(dim, trial), x2(dim, trial), x3(dim, trial);
      Buffer<float>* xs[4] = {&x0, &x1, &x2, &x3};
      fill_normal(q, dim);
      for (Buffer<float>* x : xs) fill_normal(*x, dim);
      const float* ptrs[4] = {x0.data(), x1.data(), x2.data(), x3.data()};
      double dot_scale[4] = {0, 0, 0, 0}, l2_scale[4] = {0, 0, 0, 0};
      for (int j = 0; j < 4; ++j)
        for (size_t i = 0; i < dim; ++i) {
          double d = static_cast<double>(q[i]) - ptrs[j][i];
          dot_scale[j] += std::fabs(static_cast<double>(q[i]) * ptrs[j][i]);
          l2_scale[j] += d * d;
        }
      record_float("l2sq", dim, isa.l2sq(q.data(), ptrs[0], dim), scalar.l2sq(q.data(), ptrs[0], dim), l2_scale[0]);
      record_float("dot", dim, isa.dot(q.data(), ptrs[0], dim), scalar.dot(q.data(), ptrs[0], dim), dot_scale[0]);
      float out_isa[4], out_scalar[4];
      isa.l2sq_x4(q.data(), ptrs, dim, out_isa);
      scalar.l2sq_x4(q.data(), ptrs, dim, out_scalar);
      for (int j = 0; j < 4; ++j) record_float("l2sq_x4", dim, out_isa[j], out_scalar[j], l2_scale[j]);
      isa.dot_x4(q.data(), ptrs, dim, out_isa);
      scalar.dot_x4(q.data(), ptrs, dim, out_scalar);
      for (int j = 0; j < 4; ++j) record_float("dot_x4", dim, out_isa[j], out_scalar[j], dot_scale[j]);
    }
  }
}

// ---- f16 / bf16 ----------------------------------------------------------------------------

// Finite codes only: mostly rounded normals at varied scales, plus subnormals and signed zeros.
uint16_t random_half_code(bool bf16) {
  size_t kind = below(10);
  if (kind == 0) return static_cast<uint16_t>(bits64() & 0x83ffu);  // zero or subnormal (exponent 0)
  if (kind == 1) return below(2) ? 0x8000u : 0x0000u;
  float scale = kind == 2 ? 1e-3f : (kind == 3 ? 100.0f : 1.0f);
  float value = normal() * scale;
  return bf16 ? simd::float_to_bf16(value) : simd::float_to_half(value);
}

float decode_half(uint16_t code, bool bf16) { return bf16 ? simd::bf16_to_float(code) : simd::half_to_float(code); }

void check_half(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar, bool bf16) {
  const char* dot_name = bf16 ? "bf16_dot" : "f16_dot";
  const char* l2_name = bf16 ? "bf16_l2sq" : "f16_l2sq";
  auto isa_dot = bf16 ? isa.bf16_dot : isa.f16_dot;
  auto scalar_dot = bf16 ? scalar.bf16_dot : scalar.f16_dot;
  auto isa_l2 = bf16 ? isa.bf16_l2sq : isa.f16_l2sq;
  auto scalar_l2 = bf16 ? scalar.bf16_l2sq : scalar.f16_l2sq;
  for (size_t dim : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<float> q(dim, trial);
      fill_normal(q, dim);
      Buffer<uint16_t> codes(dim, trial);
      double dot_scale = 0, l2_scale = 0;
      for (size_t i = 0; i < dim; ++i) {
        codes[i] = random_half_code(bf16);
        double x = decode_half(codes[i], bf16);
        dot_scale += std::fabs(q[i] * x);
        l2_scale += (q[i] - x) * (q[i] - x);
      }
      record_float(dot_name, dim, isa_dot(q.data(), codes.data(), dim), scalar_dot(q.data(), codes.data(), dim),
                   dot_scale);
      record_float(l2_name, dim, isa_l2(q.data(), codes.data(), dim), scalar_l2(q.data(), codes.data(), dim),
                   l2_scale);
    }
  }
}

// ---- SQ8 -----------------------------------------------------------------------------------

void check_weighted_bytes(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t dim : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<float> w(dim, trial);
      fill_normal(w, dim);
      Buffer<uint8_t> codes(dim, trial);
      double scale = 0;
      for (size_t i = 0; i < dim; ++i) {
        codes[i] = trial == 0 ? 255 : static_cast<uint8_t>(bits64());
        scale += std::fabs(static_cast<double>(w[i]) * codes[i]);
      }
      record_float("weighted_bytes", dim, isa.weighted_bytes(w.data(), codes.data(), dim),
                   scalar.weighted_bytes(w.data(), codes.data(), dim), scale);
    }
  }
}

void check_sq8_pair(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t dim : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<float> low(dim, trial), step(dim, trial);
      Buffer<uint8_t> a(dim, trial), b(dim, trial);
      double dot_scale = 0, l2_scale = 0;
      for (size_t i = 0; i < dim; ++i) {
        low[i] = normal();
        step[i] = std::fabs(normal()) * 0.01f;
        a[i] = trial == 0 ? 255 : static_cast<uint8_t>(bits64());
        b[i] = static_cast<uint8_t>(bits64());
        double x = low[i] + double(step[i]) * a[i], y = low[i] + double(step[i]) * b[i];
        dot_scale += std::fabs(x * y);
        l2_scale += (x - y) * (x - y);
      }
      record_float("sq8_pair_dot", dim, isa.sq8_pair_dot(low.data(), step.data(), a.data(), b.data(), dim),
                   scalar.sq8_pair_dot(low.data(), step.data(), a.data(), b.data(), dim), dot_scale);
      record_float("sq8_pair_l2sq", dim, isa.sq8_pair_l2sq(low.data(), step.data(), a.data(), b.data(), dim),
                   scalar.sq8_pair_l2sq(low.data(), step.data(), a.data(), b.data(), dim), l2_scale);
    }
  }
}

// A four-row kernel, run with `row` in each position next to three copies of `other`; each
// output is checked against the one-row answers `want` and `want_other`.
template <class FourRows>
void check_four_rows(const char* name, size_t size, const uint8_t* row, const uint8_t* other, int32_t want,
                     int32_t want_other, FourRows four_rows) {
  for (int position = 0; position < 4; ++position) {
    const uint8_t* rows[4] = {other, other, other, other};
    rows[position] = row;
    int32_t four[4];
    four_rows(rows, four);
    for (int r = 0; r < 4; ++r)
      record_exact(name, size, static_cast<uint32_t>(four[r]), static_cast<uint32_t>(r == position ? want : want_other));
  }
}

// Weights up to the documented bound |w| <= 2^31 / (255 dim), clipped to the int16 range;
// trials 0 and 1 put every weight at that bound (all negative, all positive) with codes 255.
// 4-bit codes in 32-dimension blocks; trials 0 and 1 put every weight at the bound with all
// nibbles 15.
void check_weighted_nibbles_i16(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t blocks : {size_t(1), size_t(2), size_t(3), size_t(12), size_t(13), size_t(40)}) {
    int64_t bound = (int64_t{1} << 31) / (15 * 32 * static_cast<int64_t>(blocks));
    if (bound > 32767) bound = 32767;
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<int16_t> w(32 * blocks, trial);
      Buffer<uint8_t> codes(16 * blocks, trial);
      for (size_t i = 0; i < 32 * blocks; ++i) {
        int64_t weight = static_cast<int64_t>(below(2 * bound + 1)) - bound;
        if (trial < 2) weight = trial == 0 ? -bound : bound;
        w[i] = static_cast<int16_t>(weight);
      }
      for (size_t i = 0; i < 16 * blocks; ++i) codes[i] = trial < 2 ? 0xFF : static_cast<uint8_t>(bits64());
      int32_t got = isa.weighted_nibbles_i16(w.data(), codes.data(), blocks);
      int32_t want = scalar.weighted_nibbles_i16(w.data(), codes.data(), blocks);
      record_exact("weighted_nibbles_i16", blocks * 32, static_cast<uint32_t>(got), static_cast<uint32_t>(want));
      // The four-row kernel, with this row in each position next to three altered copies.
      Buffer<uint8_t> others(16 * blocks, trial + 1);
      for (size_t i = 0; i < 16 * blocks; ++i) others[i] = static_cast<uint8_t>(codes[i] ^ 0x5a);
      int32_t want_other = scalar.weighted_nibbles_i16(w.data(), others.data(), blocks);
      check_four_rows("weighted_nibbles_i16_x4", blocks * 32, codes.data(), others.data(), want, want_other,
                      [&](const uint8_t* const* rows, int32_t* four) {
                        isa.weighted_nibbles_i16_x4(w.data(), rows, blocks, four);
                      });
    }
  }
}

void check_weighted_bytes_i16(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t dim : test_dims()) {
    int64_t bound = dim == 0 ? 32767 : (int64_t{1} << 31) / (255 * static_cast<int64_t>(dim));
    if (bound > 32767) bound = 32767;
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<int16_t> w(dim, trial);
      Buffer<uint8_t> codes(dim, trial);
      for (size_t i = 0; i < dim; ++i) {
        int64_t weight = static_cast<int64_t>(below(2 * bound + 1)) - bound;
        if (trial < 2) weight = trial == 0 ? -bound : bound;
        w[i] = static_cast<int16_t>(weight);
        codes[i] = trial < 2 ? 255 : static_cast<uint8_t>(bits64());
      }
      int32_t got = isa.weighted_bytes_i16(w.data(), codes.data(), dim);
      int32_t want = scalar.weighted_bytes_i16(w.data(), codes.data(), dim);
      record_exact("weighted_bytes_i16", dim, static_cast<uint32_t>(got), static_cast<uint32_t>(want));
      // The four-row kernel, with this row in each position next to three shifted copies.
      Buffer<uint8_t> others(dim, trial + 1);
      for (size_t i = 0; i < dim; ++i) others[i] = static_cast<uint8_t>(codes[i] ^ 0x5a);
      int32_t want_other = scalar.weighted_bytes_i16(w.data(), others.data(), dim);
      check_four_rows("weighted_bytes_i16_x4", dim, codes.data(), others.data(), want, want_other,
                      [&](const uint8_t* const* rows, int32_t* four) {
                        isa.weighted_bytes_i16_x4(w.data(), rows, dim, four);
                      });
    }
  }
}

// ---- PQ ------------------------------------------------------------------------------------

void check_table_lookup(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t m : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<float> table(m * 256, trial);
      fill_normal(table, m * 256);
      Buffer<uint8_t> codes(m, trial);
      double scale = 0;
      for (size_t j = 0; j < m; ++j) {
        codes[j] = static_cast<uint8_t>(bits64());
        scale += std::fabs(table[j * 256 + codes[j]]);
      }
      record_float("table_lookup", m, isa.table_lookup(table.data(), codes.data(), m),
                   scalar.table_lookup(table.data(), codes.data(), m), scale);
    }
  }
}

// ---- Popcounts and bit planes --------------------------------------------------------------

// Word counts also cross the NEON kernel's 4096-word widening block; all-ones words (trial 0)
// push its 16-bit counters to their largest values.
std::vector<size_t> word_counts() {
  std::vector<size_t> counts = test_dims();
  for (size_t n : {4095, 4096, 4097, 8192 + 7}) counts.push_back(n);
  return counts;
}

void fill_words(Buffer<uint64_t>& out, size_t n, int trial) {
  for (size_t i = 0; i < n; ++i) out[i] = trial == 0 ? ~uint64_t{0} : (trial == 2 ? bits64() & bits64() : bits64());
}

void check_popcounts(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t n : word_counts()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<uint64_t> a(n, trial), b(n, trial + 1);
      fill_words(a, n, trial);
      fill_words(b, n, trial + 1);
      record_exact("popcount", n, isa.popcount(a.data(), n), scalar.popcount(a.data(), n));
      record_exact("and_popcount", n, isa.and_popcount(a.data(), b.data(), n), scalar.and_popcount(a.data(), b.data(), n));
      record_exact("xor_popcount", n, isa.xor_popcount(a.data(), b.data(), n), scalar.xor_popcount(a.data(), b.data(), n));
    }
  }
}

void check_bitplane_dot(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  for (size_t n : test_dims()) {
    for (size_t planes = 0; planes <= 8; ++planes) {
      int trial = static_cast<int>(planes);
      Buffer<uint64_t> code(n, trial), bits(n * planes, trial);
      fill_words(code, n, trial % 3 == 0 ? 1 : trial);
      fill_words(bits, n * planes, trial);
      record_exact("bitplane_dot", n, isa.bitplane_dot(code.data(), bits.data(), n, planes),
                   scalar.bitplane_dot(code.data(), bits.data(), n, planes));
    }
  }
}

// ---- Nearest centroid ----------------------------------------------------------------------

struct Centroids {
  size_t dim, count;
  std::vector<float> by_dim, norms;
  float at(size_t d, size_t c) const { return by_dim[d * count + c]; }
  void set(size_t c, const float* values) {
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      by_dim[d * count + c] = values[d];
      norm += static_cast<double>(values[d]) * values[d];
    }
    norms[c] = static_cast<float>(norm);
  }
  bool same(size_t a, size_t b) const {
    for (size_t d = 0; d < dim; ++d)
      if (at(d, a) != at(d, b)) return false;
    return norms[a] == norms[b];
  }
  // Score in double and the scale of its rounding error.
  double score(const float* x, size_t c, double* scale) const {
    double s = norms[c];
    *scale = std::fabs(s);
    for (size_t d = 0; d < dim; ++d) {
      double term = -2.0 * x[d] * at(d, c);
      s += term;
      *scale += std::fabs(term);
    }
    return s;
  }
};

void compare_nearest(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar, const float* x,
                     const Centroids& cs) {
  uint32_t got = isa.nearest_centroid(x, cs.by_dim.data(), cs.norms.data(), cs.dim, cs.count);
  uint32_t want = scalar.nearest_centroid(x, cs.by_dim.data(), cs.norms.data(), cs.dim, cs.count);
  Stats& s = g_stats["nearest_centroid"];
  ++s.cases;
  if (got == want) return;
  bool ok = got < cs.count && !cs.same(got, want);  // identical centroids must tie-break alike
  if (ok) {
    double scale_got, scale_want;
    double gap = std::fabs(cs.score(x, got, &scale_got) - cs.score(x, want, &scale_want));
    double tolerance = kRelTol * (scale_got > scale_want ? scale_got : scale_want) + 1e-30;
    ok = gap <= tolerance;
    if (gap / tolerance > s.worst_ratio) s.worst_ratio = gap / tolerance;
  }
  if (ok) return;
  if (++s.failures <= kMaxReportsPerKernel)
    std::printf("FAIL nearest_centroid dim=%zu count=%zu: isa=%u scalar=%u\n", cs.dim, cs.count, got, want);
}

void check_nearest_centroid(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  const size_t counts[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 64, 65, 100, 256};
  std::vector<size_t> dims;
  for (size_t d = 1; d <= 20; ++d) dims.push_back(d);
  for (size_t d : {31, 64, 70, 384}) dims.push_back(d);
  for (size_t dim : dims) {
    for (size_t count : counts) {
      for (int trial = 0; trial < 3; ++trial) {
        Centroids cs{dim, count, std::vector<float>(dim * count), std::vector<float>(count)};
        std::vector<float> x(dim), values(dim);
        for (float& v : x) v = normal();
        for (size_t c = 0; c < count; ++c) {
          for (float& v : values) v = normal();
          cs.set(c, values.data());
        }
        compare_nearest(isa, scalar, x.data(), cs);
        // Ties: copies of the point itself (clearly the best) at random positions, lanes and tail.
        for (int copy = 0; copy < 3; ++copy) cs.set(below(count), x.data());
        compare_nearest(isa, scalar, x.data(), cs);
        // All centroids identical: both must answer 0.
        for (size_t c = 0; c < count; ++c) cs.set(c, values.data());
        compare_nearest(isa, scalar, x.data(), cs);
      }
    }
  }
}

// ---- FastScan -------------------------------------------------------------------------------

// Group counts around the AVX2 (2) and AVX-512 (4) steps, 96 (384-d 1-bit codes) and 256, the
// most whose sums of 255s fit in uint16. Entries stay within the callers' bound
// groups * max(entry) <= 65535; trial 0 puts every entry at it, trial 1 every nibble at 15.
void check_fastscan32(const simd::CodecKernelTable& isa, const simd::CodecKernelTable& scalar) {
  std::vector<size_t> group_counts;
  for (size_t g = 0; g <= 20; ++g) group_counts.push_back(g);
  for (size_t g : {31, 32, 33, 95, 96, 97, 255, 256}) group_counts.push_back(g);
  for (size_t groups : group_counts) {
    size_t top = groups == 0 ? 255 : std::min<size_t>(255, 65535 / groups);
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<uint8_t> packed(16 * groups, trial), tables(16 * groups, trial + 1);
      for (size_t i = 0; i < 16 * groups; ++i) {
        packed[i] = trial == 1 ? 0xFF : static_cast<uint8_t>(bits64());
        tables[i] = static_cast<uint8_t>(trial == 0 ? top : below(top + 1));
      }
      Buffer<uint16_t> got(32, trial);  // ends at a guard page: a write past out[31] faults
      uint16_t want[32];
      isa.fastscan32(packed.data(), tables.data(), groups, got.data());
      scalar.fastscan32(packed.data(), tables.data(), groups, want);
      for (size_t j = 0; j < 32; ++j) record_exact("fastscan32", groups, got[j], want[j]);
    }
  }
}

// ---- Chamfer ---------------------------------------------------------------------------------

// The best dot product per query row may come from a different document row when two are within
// rounding of each other, so the tolerance scale is each row's largest sum of |terms|.
void check_chamfer(const simd::ChamferKernelTable& isa, const simd::ChamferKernelTable& scalar) {
  std::vector<size_t> dims = {1, 3, 8, 15, 16, 17, 31, 32, 33, 48, 64, 100, 128, 129};
  for (size_t dim : dims) {
    for (size_t query_count : {1, 2, 3, 5}) {
      for (size_t doc_count : {1, 3, 4, 5, 9}) {
        int trial = static_cast<int>(query_count + doc_count);
        Buffer<float> query(query_count * dim, trial), doc(doc_count * dim, trial + 1);
        fill_normal(query, query_count * dim);
        fill_normal(doc, doc_count * dim);
        double scale = 0;
        for (size_t q = 0; q < query_count; ++q) {
          double largest = 0;
          for (size_t d = 0; d < doc_count; ++d) {
            double terms = 0;
            for (size_t i = 0; i < dim; ++i) terms += std::fabs(static_cast<double>(query[q * dim + i]) * doc[d * dim + i]);
            if (terms > largest) largest = terms;
          }
          scale += largest;
        }
        record_float("chamfer", dim, isa.chamfer(query.data(), query_count, doc.data(), doc_count, dim),
                     scalar.chamfer(query.data(), query_count, doc.data(), doc_count, dim), scale);
      }
    }
  }
}

// Decoding is exact on every level, so the bit patterns must match, except that a NaN need only
// stay a NaN (hardware conversions quiet signalling NaNs; the scalar code keeps their payload).
void check_decode_f16(const simd::ChamferKernelTable& isa, const simd::ChamferKernelTable& scalar) {
  for (size_t count : test_dims()) {
    for (int trial = 0; trial < kTrials; ++trial) {
      Buffer<uint16_t> halves(count, trial);
      for (size_t i = 0; i < count; ++i) halves[i] = trial == 0 ? static_cast<uint16_t>(bits64()) : random_half_code(false);
      Buffer<float> got(count, trial), want(count, trial);
      isa.decode_f16(halves.data(), count, got.data());
      scalar.decode_f16(halves.data(), count, want.data());
      for (size_t i = 0; i < count; ++i) {
        uint32_t got_bits, want_bits;
        std::memcpy(&got_bits, &got[i], 4);
        std::memcpy(&want_bits, &want[i], 4);
        if (std::isnan(want[i]) && std::isnan(got[i])) got_bits = want_bits;
        record_exact("decode_f16", count, got_bits, want_bits);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_rng.seed(argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20261126);
  const simd::KernelTable* isa = isa_kernels();
  const simd::CodecKernelTable* isa_codec = isa_codec_kernels();
  const simd::ChamferKernelTable* isa_chamfer = isa_chamfer_kernels();
  if (isa == nullptr || isa_codec == nullptr || isa_chamfer == nullptr || isa->level != kLevel ||
      isa_codec->level != kLevel || isa_chamfer->level != kLevel) {
    std::printf("FAIL: %s tables missing or mislabelled\n", simd::level_name(kLevel).c_str());
    return 1;
  }
#if defined(VECINDEX_CHECK_AVX512)
  // The CPU has no AVX-512 (SIMDe stands in for it), so dispatch rightly never offers the level.
  std::printf("dispatch: not checked (AVX-512 kernels run on SIMDe)\n");
#else
  // The dispatcher must offer NEON and, unless VECINDEX_SIMD forces a level, pick it.
  bool forced = std::getenv("VECINDEX_SIMD") != nullptr;
  if (!simd::codec_level_supported(kLevel) || &simd::codec_kernels_for(kLevel) != isa_codec ||
      !simd::chamfer_level_supported(kLevel) || &simd::chamfer_kernels_for(kLevel) != isa_chamfer ||
      (!forced && (&simd::active_kernels() != isa || &simd::active_codec_kernels() != isa_codec ||
                   &simd::active_chamfer_kernels() != isa_chamfer))) {
    std::printf("FAIL: dispatch does not hand out the NEON tables\n");
    return 1;
  }
  std::printf("dispatch: NEON tables available%s\n", forced ? "" : " and active");
#endif

  const simd::KernelTable& scalar = *simd::scalar_kernels();
  const simd::CodecKernelTable& scalar_codec = *simd::scalar_codec_kernels();
  const simd::ChamferKernelTable& scalar_chamfer = *simd::scalar_chamfer_kernels();

  check_f32(*isa, scalar);
  check_half(*isa_codec, scalar_codec, false);
  check_half(*isa_codec, scalar_codec, true);
  check_weighted_bytes(*isa_codec, scalar_codec);
  check_sq8_pair(*isa_codec, scalar_codec);
  check_weighted_bytes_i16(*isa_codec, scalar_codec);
  check_weighted_nibbles_i16(*isa_codec, scalar_codec);
  check_table_lookup(*isa_codec, scalar_codec);
  check_popcounts(*isa_codec, scalar_codec);
  check_bitplane_dot(*isa_codec, scalar_codec);
  check_nearest_centroid(*isa_codec, scalar_codec);
  check_fastscan32(*isa_codec, scalar_codec);
  check_chamfer(*isa_chamfer, scalar_chamfer);
  check_decode_f16(*isa_chamfer, scalar_chamfer);

  long failures = 0;
  for (const auto& [name, stats] : g_stats) {
    std::printf("%-24s %6ld cases %4ld failures  worst error/tolerance %.3g\n", name.c_str(), stats.cases,
                stats.failures, stats.worst_ratio);
    failures += stats.failures;
  }
  std::printf("%zu kernels checked, %ld failures\n", g_stats.size(), failures);
  return failures == 0 && g_stats.size() == 24 ? 0 : 1;
}
