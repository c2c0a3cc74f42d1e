// Creates the compressed stores (f16, bf16, sq8, pq, rabitq). make_store() (store_factory.cpp)
// asks this first and handles "f32" itself.
#pragma once

#include <memory>
#include <string>

#include "storage/vector_store.h"

namespace vecindex {

// nullptr when `dtype` is not a codec dtype; throws InvalidArgument for bad options (pq_m).
std::unique_ptr<VectorStore> make_codec_store(const std::string& dtype, size_t dim, Metric metric,
                                              const StoreOptions& options);

// The dtype names make_codec_store() knows, for error messages.
const char* codec_dtype_names();

}  // namespace vecindex
