// String keys: translation between keys and the internal ids the rest of Index works with.
// Every call translates under the same lock as the work it does, so the id map and the key
// table never disagree for a caller.
#include <mutex>
#include <unordered_set>

#include "index/index.h"
#include "util/errors.h"

namespace vecindex {
namespace {

void require_string_keys(bool string_keys) {
  if (!string_keys) throw InvalidArgument("this index has int ids; string keys need an index made with keys='str'");
}

}  // namespace

void Index::check_new_keys(const std::vector<std::string>& keys, bool replace) const {
  if (replace) return;
  std::vector<std::string> existing;
  for (const std::string& key : keys) {
    const int64_t id = keys_.find(key);
    if (id >= 0 && id_to_slot_.count(id)) existing.push_back(key);
  }
  if (!existing.empty())
    throw InvalidArgument("keys already in the index: " + list_keys(existing) + " (pass replace=True to overwrite)");
}

std::vector<int64_t> Index::assign_key_ids(const std::vector<std::string>& keys) {
  std::vector<int64_t> ids(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ids[i] = keys_.find(keys[i]);
    if (ids[i] >= 0) continue;
    // Internal ids count up from 0 and are never reused (one per key ever added), far from int64's end.
    ids[i] = next_auto_id_++;
    keys_.insert(keys[i], ids[i]);
  }
  return ids;
}

std::vector<int64_t> Index::ids_of_keys(const std::vector<std::string>& keys, bool require_live) const {
  std::vector<int64_t> ids(keys.size());
  std::vector<std::string> missing;
  for (size_t i = 0; i < keys.size(); ++i) {
    ids[i] = keys_.find(keys[i]);
    auto found = ids[i] < 0 ? id_to_slot_.end() : id_to_slot_.find(ids[i]);
    // An add in flight has no stored vector yet: get() does not see it (as for int ids).
    if (found == id_to_slot_.end() || (require_live && !slot_live(found->second))) missing.push_back(keys[i]);
  }
  if (!missing.empty()) throw KeyNotFound("keys not in the index: " + list_keys(missing));
  return ids;
}

void Index::keys_of_ids(const int64_t* ids, size_t n, std::vector<std::string>& out) const {
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0) out[i].clear();
    else out[i] = keys_.key_of(ids[i]);
  }
}

void Index::forget_unused_keys() {
  std::unordered_set<int64_t> in_use;
  in_use.reserve(id_to_slot_.size() * 2);
  for (const auto& [id, slot] : id_to_slot_) in_use.insert(id);
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (slot_to_id_[slot] >= 0) in_use.insert(slot_to_id_[slot]);  // adds in flight keep their keys
  for (int64_t id = 0; id < next_auto_id_; ++id)
    if (keys_.holds_id(id) && !in_use.count(id)) keys_.erase_id(id);
}

void Index::add_keys(const float* vectors, size_t n, const std::vector<std::string>& keys, bool replace,
                     size_t threads, const PollFn& poll, const AttributeBatch* attributes) {
  require_string_keys(config_.string_keys);
  if (keys.size() != n)
    throw InvalidArgument("got " + std::to_string(keys.size()) + " keys for " + std::to_string(n) + " vectors");
  require_writable("add");
  check_keys(keys, /*unique=*/true);
  add_rows(vectors, n, nullptr, &keys, replace, threads, poll, attributes);
}

bool Index::contains_key(const std::string& key) const {
  require_string_keys(config_.string_keys);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  const int64_t id = keys_.find(key);
  auto found = id < 0 ? id_to_slot_.end() : id_to_slot_.find(id);
  return found != id_to_slot_.end() && slot_live(found->second);
}

void Index::get_keys(const std::vector<std::string>& keys, float* out) const {
  require_string_keys(config_.string_keys);
  check_keys(keys, /*unique=*/false);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  std::vector<int64_t> ids = ids_of_keys(keys, /*require_live=*/true);
  get_locked(ids.data(), ids.size(), out);
}

std::vector<AttributeRow> Index::get_attributes_keys(const std::vector<std::string>& keys) const {
  require_string_keys(config_.string_keys);
  check_keys(keys, /*unique=*/false);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  std::vector<int64_t> ids = ids_of_keys(keys, /*require_live=*/false);
  return get_attributes_locked(ids.data(), ids.size());
}

void Index::remove_keys(const std::vector<std::string>& keys) {
  require_string_keys(config_.string_keys);
  require_writable("delete");
  check_keys(keys, /*unique=*/false);
  std::unique_lock<std::shared_mutex> lock(structure_mutex_);
  std::vector<int64_t> ids = ids_of_keys(keys, /*require_live=*/false);
  remove_locked(ids.data(), ids.size());  // the keys keep their ids until compact()
}

std::vector<std::string> Index::keys() const {
  require_string_keys(config_.string_keys);
  std::shared_lock<std::shared_mutex> lock(structure_mutex_);
  std::vector<std::string> out;
  out.reserve(id_to_slot_.size());
  for (size_t slot = 0; slot < slot_count_; ++slot)
    if (slot_to_id_[slot] >= 0 && slot_live(uint32_t(slot))) out.push_back(keys_.key_of(slot_to_id_[slot]));
  return out;
}

FilterExprPtr Index::resolve_key_filters(const FilterExpr& filter, size_t depth) const {
  if (depth > 1000) throw InvalidArgument("filter expression is nested too deeply (more than 1000 levels)");
  if (filter.op == FilterOp::allow_ids && config_.string_keys && !filter.ids.empty())
    throw InvalidArgument("this index has string keys (keys='str'): an allow-list must hold str keys, not int ids");
  if (filter.op == FilterOp::allow_keys) {
    require_string_keys(config_.string_keys);
    std::vector<int64_t> ids;
    ids.reserve(filter.keys.size());
    for (const std::string& key : filter.keys) {
      const int64_t id = keys_.find(key);
      if (id >= 0) ids.push_back(id);  // unknown keys match nothing, as unknown ids do
    }
    return FilterExpr::make_allow_ids(std::move(ids));
  }
  std::vector<FilterExprPtr> children;
  bool changed = false;
  for (const FilterExprPtr& child : filter.children) {
    FilterExprPtr resolved = resolve_key_filters(*child, depth + 1);
    changed |= resolved != nullptr;
    children.push_back(resolved ? resolved : child);
  }
  if (!changed) return nullptr;
  auto copy = std::make_shared<FilterExpr>(filter);
  copy->children = std::move(children);
  return copy;
}

}  // namespace vecindex
