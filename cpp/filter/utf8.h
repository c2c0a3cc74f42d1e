// Strings reach the attribute store from Python, so they are always valid UTF-8; a loaded
// string that is not was corrupted, and handing it back to Python would fail later.
#pragma once

#include <string>

namespace vecindex {

inline bool is_valid_utf8(const std::string& text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t extra;
    unsigned int code;
    if (byte < 0x80) { ++i; continue; }
    if ((byte & 0xE0) == 0xC0) { extra = 1; code = byte & 0x1F; }
    else if ((byte & 0xF0) == 0xE0) { extra = 2; code = byte & 0x0F; }
    else if ((byte & 0xF8) == 0xF0) { extra = 3; code = byte & 0x07; }
    else return false;
    if (extra >= n - i) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Reject overlong forms, surrogates and code points past U+10FFFF.
    static const unsigned int kMinimum[4] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace vecindex
