#pragma once
#include <cstddef>
#include <cstdint>

namespace vecindex {
// CRC-32 (IEEE 802.3 polynomial, reflected), as zlib computes it.
uint32_t crc32(const void* data, size_t size, uint32_t previous = 0);
}  // namespace vecindex
