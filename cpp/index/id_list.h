// Ids quoted in error messages: the first ten, then how many in all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vecindex {

inline std::string list_ids(const std::vector<int64_t>& ids) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < 10; ++i) text += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > 10) text += ", ... (" + std::to_string(ids.size()) + " in all)";
  return text;
}

}  // namespace vecindex
