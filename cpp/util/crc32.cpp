#include "util/crc32.h"

#include <array>

namespace vecindex {
namespace {

// Slicing-by-4 tables: four bytes per step keeps checksumming well below file read cost.
using Tables = std::array<std::array<uint32_t, 256>, 4>;

Tables make_tables() {
  Tables tables{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    tables[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i)
    for (int t = 1; t < 4; ++t) tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xFF];
  return tables;
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t previous) {
  static const Tables tables = make_tables();
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t c = ~previous;
  while (size >= 4) {
    c ^= uint32_t(bytes[0]) | (uint32_t(bytes[1]) << 8) | (uint32_t(bytes[2]) << 16) | (uint32_t(bytes[3]) << 24);
    c = tables[3][c & 0xFF] ^ tables[2][(c >> 8) & 0xFF] ^ tables[1][(c >> 16) & 0xFF] ^ tables[0][c >> 24];
    bytes += 4;
    size -= 4;
  }
  while (size--) c = tables[0][(c ^ *bytes++) & 0xFF] ^ (c >> 8);
  return ~c;
}

}  // namespace vecindex
