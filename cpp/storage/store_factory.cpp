// Maps dtype names to codecs; each codec registers here.
#include "storage/codec_factory.h"
#include "storage/f32_store.h"
#include "util/errors.h"

namespace vecindex {

Metric parse_metric(const std::string& name) {
  if (name == "l2" || name == "euclidean") return Metric::l2;
  if (name == "ip" || name == "dot") return Metric::ip;
  if (name == "cosine" || name == "angular") return Metric::cosine;
  throw InvalidArgument("unknown metric '" + name + "'; expected 'l2', 'ip' or 'cosine'");
}

std::string metric_name(Metric metric) {
  switch (metric) {
    case Metric::l2: return "l2";
    case Metric::ip: return "ip";
    case Metric::cosine: return "cosine";
  }
  return "unknown";
}

std::unique_ptr<VectorStore> make_store(const std::string& dtype, size_t dim, Metric metric,
                                        const StoreOptions& options) {
  if (dtype == "f32" || dtype == "float32") return std::make_unique<F32Store>(dim, metric);
  if (auto store = make_codec_store(dtype, dim, metric, options)) return store;
  throw InvalidArgument("unknown dtype '" + dtype + "'; expected one of f32, " + codec_dtype_names());
}

}  // namespace vecindex
