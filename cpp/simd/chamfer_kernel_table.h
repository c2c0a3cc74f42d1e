// The Chamfer (late-interaction, MaxSim) kernel table, with C headers only: the ISA-flagged
// chamfer_kernels_*.cpp files include this rather than chamfer_kernels.h, so no inline library
// code compiled with their flags can be picked by the linker for baseline callers.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "simd/kernel_table.h"

namespace vecindex::simd {

// sum over the query_count query rows of the largest dot product with any of the doc_count
// document rows; rows are dim floats apart. doc_count must be >= 1 (callers check).
using ChamferKernel = float (*)(const float* query, size_t query_count, const float* doc, size_t doc_count,
                                size_t dim);

// Widens count IEEE half values to f32 (exactly): f16 tokens are decoded once per document
// before the Chamfer kernel runs, and that decode costs as much as the kernel in scalar code.
using HalfDecodeKernel = void (*)(const uint16_t* halves, size_t count, float* out);

struct ChamferKernelTable {
  Level level;
  ChamferKernel chamfer;
  HalfDecodeKernel decode_f16;
};

// Per-ISA tables; nullptr when that ISA was not compiled into this build.
const ChamferKernelTable* scalar_chamfer_kernels();
const ChamferKernelTable* avx2_chamfer_kernels();
const ChamferKernelTable* avx512_chamfer_kernels();
const ChamferKernelTable* neon_chamfer_kernels();

}  // namespace vecindex::simd
