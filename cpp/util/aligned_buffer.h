// A growable, 64-byte aligned byte arena. Cache-line alignment keeps each vector's first
// line whole; large arenas come from allocate_large (huge-page aligned and advised).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "util/large_alloc.h"

namespace vecindex {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& other) noexcept { swap(other); }
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept { swap(other); return *this; }
  ~AlignedBuffer() { std::free(data_); }

  // Grows to at least `size` bytes, keeping the contents; new bytes are zeroed.
  void resize(size_t size) {
    if (size <= size_) return;
    size_t rounded = 0;
    void* fresh = allocate_large(size, &rounded);
    if (size_) std::memcpy(fresh, data_, size_);
    std::memset(static_cast<uint8_t*>(fresh) + size_, 0, rounded - size_);
    std::free(data_);
    data_ = static_cast<uint8_t*>(fresh);
    size_ = rounded;
  }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void swap(AlignedBuffer& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vecindex
