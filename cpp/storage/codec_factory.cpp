#include "storage/codec_factory.h"

#include "storage/half_store.h"
#include "storage/pq_store.h"
#include "storage/rabitq_store.h"
#include "storage/scalar_quant_store.h"

namespace vecindex {

std::unique_ptr<VectorStore> make_codec_store(const std::string& dtype, size_t dim, Metric metric,
                                              const StoreOptions& options) {
  if (dtype == "f16") return std::make_unique<HalfStore>(HalfKind::f16, dim, metric);
  if (dtype == "bf16") return std::make_unique<HalfStore>(HalfKind::bf16, dim, metric);
  if (dtype == "sq8") return std::make_unique<ScalarQuantStore>(dim, metric, 8);
  if (dtype == "sq4") return std::make_unique<ScalarQuantStore>(dim, metric, 4);
  if (dtype == "pq") return std::make_unique<PqStore>(dim, metric, options.pq_m, options.seed);
  if (dtype == "rabitq") return std::make_unique<RabitqStore>(dim, metric, options.seed);
  return nullptr;
}

const char* codec_dtype_names() { return "f16, bf16, sq8, sq4, pq, rabitq"; }

}  // namespace vecindex
