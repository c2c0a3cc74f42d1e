// Codec kernel table types and per-ISA getters, with no standard-library includes beyond C
// headers: the ISA-flagged codec files include this instead of codec_kernels.h, so no inline
// library code compiled with their flags can be picked by the linker for baseline callers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "simd/kernel_table.h"

namespace vecindex::simd {

// Query in f32, vector as 16-bit floats (IEEE half or bfloat16 bit patterns).
using HalfPairKernel = float (*)(const float* query, const uint16_t* codes, size_t dim);
// sum_i weights[i] * codes[i]: the core of SQ8 distances once the query is folded into weights.
using WeightedBytesKernel = float (*)(const float* weights, const uint8_t* codes, size_t dim);
// sum_i weights[i] * codes[i] in exact integer arithmetic; callers keep |weights| small enough
// (<= 2^31 / (255 * dim)) that the int32 sum cannot overflow. The fast SQ8 path.
using Int16WeightedBytesKernel = int32_t (*)(const int16_t* weights, const uint8_t* codes, size_t dim);
// The same sum for four codes at once, out[r] for codes[r]: the weights are read once for all
// four, and the four rows' loads are in flight together, which matters when they miss cache.
using Int16WeightedBytesX4Kernel = void (*)(const int16_t* weights, const uint8_t* const* codes, size_t dim,
                                            int32_t* out);
// The same sum over 4-bit codes in blocks of 32 dimensions, 16 bytes a block: byte t of block
// b holds dimension 32b + t in its low nibble and 32b + 16 + t in its high nibble. `weights`
// holds 32 * blocks entries; |weights| <= 2^31 / (15 * 32 * blocks) keeps the sum in int32.
using Int16WeightedNibblesKernel = int32_t (*)(const int16_t* weights, const uint8_t* codes, size_t blocks);
// The same sum for four codes at once, out[r] for codes[r], reading the weights once.
using Int16WeightedNibblesX4Kernel = void (*)(const int16_t* weights, const uint8_t* const* codes, size_t blocks,
                                              int32_t* out);
// sum_j table[j * 256 + codes[j]] for j < subspaces: asymmetric PQ distance from a lookup table.
using TableLookupKernel = float (*)(const float* table, const uint8_t* codes, size_t subspaces);
using PopcountKernel = uint64_t (*)(const uint64_t* words, size_t word_count);
using PairPopcountKernel = uint64_t (*)(const uint64_t* a, const uint64_t* b, size_t word_count);
// sum_p 2^p * popcount(code & planes[p * word_count ...]) for p < plane_count: the inner
// product between a bit vector and a query quantised to plane_count bits per dimension.
using BitplaneKernel = uint64_t (*)(const uint64_t* code, const uint64_t* planes, size_t word_count,
                                    size_t plane_count);

// Index of the centroid minimising ||c||^2 - 2 <point, c> (i.e. squared L2 to the point), with
// centroids stored dimension-major (dim rows of `count` values) so lanes run over centroids.
// Used by PQ k-means and encoding.
using NearestCentroidKernel = uint32_t (*)(const float* point, const float* centroids_by_dim,
                                           const float* centroid_norms, size_t dim, size_t count);

// FastScan: 32 codes scored at once from 16-entry lookup tables (one table per group of code
// bits). `packed` holds `groups` blocks of 16 bytes: byte t of block g holds code t's 4-bit
// sub-code for group g in its low nibble and code (t + 16)'s in its high nibble. `tables` holds
// groups * 16 bytes, table g at tables + 16 * g. out[j] = sum over g of tables[16 g + nibble(j, g)]
// for j < 32, summed in uint16: callers keep groups * max(table entry) <= 65535.
// The quantized graph's inner loop: one call scores a node's 32 neighbours. No alignment needed.
using FastScan32Kernel = void (*)(const uint8_t* packed, const uint8_t* tables, size_t groups, uint16_t* out);

// Two SQ8 codes with the same per-dimension decoding (value = low + step * code), compared
// without decoding them to memory: the dot product of the two reconstructions, or their squared
// L2 distance (low unused). Graph links of an index that keeps no f32 vectors compare codes
// pairwise, so this is most of the time such an index takes to build.
using Sq8PairKernel = float (*)(const float* low, const float* step, const uint8_t* a, const uint8_t* b, size_t dim);
struct CodecKernelTable {
  Level level;
  HalfPairKernel f16_dot;
  HalfPairKernel f16_l2sq;
  HalfPairKernel bf16_dot;
  HalfPairKernel bf16_l2sq;
  WeightedBytesKernel weighted_bytes;
  Int16WeightedBytesKernel weighted_bytes_i16;
  Int16WeightedBytesX4Kernel weighted_bytes_i16_x4;
  Int16WeightedNibblesKernel weighted_nibbles_i16;
  Int16WeightedNibblesX4Kernel weighted_nibbles_i16_x4;
  TableLookupKernel table_lookup;
  PopcountKernel popcount;
  PairPopcountKernel and_popcount;
  PairPopcountKernel xor_popcount;
  BitplaneKernel bitplane_dot;
  NearestCentroidKernel nearest_centroid;
  FastScan32Kernel fastscan32;
  Sq8PairKernel sq8_pair_dot;
  Sq8PairKernel sq8_pair_l2sq;
};

// Per-ISA tables; nullptr when that ISA was not compiled into this build.
const CodecKernelTable* scalar_codec_kernels();
const CodecKernelTable* avx2_codec_kernels();
const CodecKernelTable* avx512_codec_kernels();
const CodecKernelTable* neon_codec_kernels();

}  // namespace vecindex::simd
