// MultiVectorIndex <-> file image, in the Index container format (io/container.h). Sections:
// MVCF (encoding and token configuration), MVGR (the encodings' Index, as its own complete
// image), MVDC (document ids and token counts), MVTK (the live documents' tokens, in MVDC's
// order; deleted documents' tokens are dropped when saving).
#include <algorithm>
#include <mutex>
#include <unordered_set>

#include "io/container.h"
#include "multivector/multivector_index.h"
#include "util/errors.h"

namespace vecindex {
namespace {

constexpr uint32_t kConfig = io::make_tag("MVCF");
constexpr uint32_t kGraph = io::make_tag("MVGR");
constexpr uint32_t kDocuments = io::make_tag("MVDC");
constexpr uint32_t kTokens = io::make_tag("MVTK");

const io::SectionView& require(const std::map<uint32_t, io::SectionView>& sections, uint32_t tag) {
  auto found = sections.find(tag);
  if (found == sections.end()) throw FormatError("file has no '" + io::tag_name(tag) + "' section");
  return found->second;
}

}  // namespace

std::vector<uint8_t> MultiVectorIndex::to_bytes() const {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  ByteWriter config;
  config.put<uint64_t>(config_.fde.dim);
  config.put<uint64_t>(config_.fde.k_sim);
  config.put<uint64_t>(config_.fde.d_proj);
  config.put<uint64_t>(config_.fde.r_reps);
  config.put<uint64_t>(config_.fde.final_dim);
  config.put<uint64_t>(config_.fde.seed);
  config.put<uint32_t>(uint32_t(config_.token_dtype));

  // Ordered by id so the same index always saves to the same bytes.
  std::vector<int64_t> ids = graph_->ids();
  std::sort(ids.begin(), ids.end());
  ByteWriter documents, tokens;
  documents.put<uint64_t>(ids.size());
  documents.put_array(ids.data(), ids.size());
  for (int64_t id : ids) documents.put<uint32_t>(documents_.at(id).token_count);
  for (int64_t id : ids) {
    const DocumentSpan& span = documents_.at(id);
    tokens.append(arena_.raw(span.first_token), size_t(span.token_count) * arena_.bytes_per_token());
  }
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> sections;
  sections.emplace_back(kConfig, config.take());
  sections.emplace_back(kGraph, graph_->to_bytes());
  sections.emplace_back(kDocuments, documents.take());
  sections.emplace_back(kTokens, tokens.take());
  return io::build_container(sections);
}

std::unique_ptr<MultiVectorIndex> MultiVectorIndex::from_bytes(const uint8_t* data, size_t size) {
  return from_image(data, size, false);
}

std::unique_ptr<MultiVectorIndex> MultiVectorIndex::from_image(const uint8_t* data, size_t size, bool view) {
  auto sections = io::parse_container(data, size);
  if (io::format_version(data) > io::kBaseWriteVersion)  // version 3 is only written for string keys
    throw FormatError("multi-vector file with format version " + std::to_string(io::format_version(data)));
  const io::SectionView& config_view = require(sections, kConfig);
  ByteReader reader(config_view.data, config_view.size, "MVCF section");
  MultiVectorConfig config;
  config.fde.dim = reader.get<uint64_t>();
  config.fde.k_sim = reader.get<uint64_t>();
  config.fde.d_proj = reader.get<uint64_t>();
  config.fde.r_reps = reader.get<uint64_t>();
  config.fde.final_dim = reader.get<uint64_t>();
  config.fde.seed = reader.get<uint64_t>();
  const uint32_t token_dtype = reader.get<uint32_t>();
  reader.expect_end();
  if (token_dtype > uint32_t(TokenDtype::sq8)) throw FormatError("unknown token dtype code " + std::to_string(token_dtype));
  config.token_dtype = TokenDtype(token_dtype);
  if (config.fde.dim < 1 || config.fde.dim > 65536) throw FormatError("file declares an invalid token dim");

  const io::SectionView& graph_view = require(sections, kGraph);
  std::unique_ptr<Index> graph = Index::from_bytes(graph_view.data, graph_view.size);
  config.graph = graph->config();
  std::unique_ptr<MultiVectorIndex> index;
  try {
    config.validate();
    index = std::make_unique<MultiVectorIndex>(config);
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string("file holds an invalid configuration: ") + e.what());
  }
  if (graph->config().dim != index->encoder_.output_dim() || graph->config().metric != Metric::ip)
    throw FormatError("the encodings' index does not match the declared encoding");
  index->graph_ = std::move(graph);

  const io::SectionView& documents_view = require(sections, kDocuments);
  ByteReader documents(documents_view.data, documents_view.size, "MVDC section");
  const uint64_t count = documents.get<uint64_t>();
  if (count != index->graph_->size()) throw FormatError("document table and encodings' index disagree on the count");
  std::vector<int64_t> ids = documents.get_vector<int64_t>(count);
  std::vector<uint32_t> token_counts = documents.get_vector<uint32_t>(count);
  documents.expect_end();
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!index->graph_->contains(ids[i])) throw FormatError("document " + std::to_string(ids[i]) + " has no encoding");
    if (token_counts[i] == 0) throw FormatError("document " + std::to_string(ids[i]) + " has no tokens");
    if (!index->documents_.emplace(ids[i], DocumentSpan{total, token_counts[i]}).second)
      throw FormatError("id " + std::to_string(ids[i]) + " appears twice in the document table");
    total += token_counts[i];  // at most 2^64 / 2^32 documents of 2^32 tokens: cannot wrap
  }
  const io::SectionView& tokens_view = require(sections, kTokens);
  index->arena_.load(tokens_view.data, tokens_view.size, total, view);
  return index;
}

void MultiVectorIndex::save(const std::string& path) const { io::write_file_atomically(path, to_bytes()); }

std::unique_ptr<MultiVectorIndex> MultiVectorIndex::load(const std::string& path, bool mmap) {
  if (!mmap) {
    std::vector<uint8_t> bytes = io::read_file(path);
    return from_bytes(bytes.data(), bytes.size());
  }
  auto mapping = std::make_shared<const io::MappedFile>(path);
  std::unique_ptr<MultiVectorIndex> index = from_image(mapping->data(), mapping->size(), true);
  index->mapping_ = std::move(mapping);
  return index;
}

}  // namespace vecindex
