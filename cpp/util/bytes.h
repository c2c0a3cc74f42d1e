// Little helpers to write and read checked binary blobs. ByteReader never reads past its
// end: every read checks the remaining length and throws FormatError.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "util/errors.h"

namespace vecindex {

class ByteWriter {
 public:
  template <typename T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable<T>::value, "put() takes plain values");
    append(&value, sizeof(T));
  }
  void append(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  }
  template <typename T>
  void put_array(const T* values, size_t count) {
    static_assert(std::is_trivially_copyable<T>::value, "put_array() takes plain values");
    append(values, count * sizeof(T));
  }
  void put_string(const std::string& text) {
    put<uint64_t>(text.size());
    append(text.data(), text.size());
  }
  std::vector<uint8_t>& buffer() { return buffer_; }
  std::vector<uint8_t> take() { return std::move(buffer_); }

 private:
  std::vector<uint8_t> buffer_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string what = "section")
      : data_(data), size_(size), what_(std::move(what)) {}

  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable<T>::value, "get() takes plain values");
    T value;
    std::memcpy(&value, take(sizeof(T)), sizeof(T));
    return value;
  }
  // Returns a pointer to count values inside the blob (no copy). Checks the length first,
  // with overflow-safe arithmetic, so a huge declared count cannot wrap around.
  const uint8_t* take(size_t size) {
    if (size > size_ - offset_)
      throw FormatError(what_ + " is truncated: needs " + std::to_string(size) + " more bytes, has " +
                        std::to_string(size_ - offset_));
    const uint8_t* out = data_ + offset_;
    offset_ += size;
    return out;
  }
  template <typename T>
  void get_array(T* out, size_t count) {
    if (count != 0 && count > (size_ - offset_) / sizeof(T))
      throw FormatError(what_ + " is truncated: declares " + std::to_string(count) + " items");
    if (count == 0) return;  // out may be null (an empty vector's data()); memcpy(null, ..., 0) is UB
    std::memcpy(out, take(count * sizeof(T)), count * sizeof(T));
  }
  template <typename T>
  std::vector<T> get_vector(size_t count) {
    if (count != 0 && count > (size_ - offset_) / sizeof(T))
      throw FormatError(what_ + " is truncated: declares " + std::to_string(count) + " items");
    std::vector<T> out(count);
    get_array(out.data(), count);
    return out;
  }
  std::string get_string(size_t max_length = 1 << 20) {
    uint64_t length = get<uint64_t>();
    if (length > max_length) throw FormatError(what_ + " has a string longer than allowed");
    const uint8_t* bytes = take(length);
    return std::string(reinterpret_cast<const char*>(bytes), length);
  }
  size_t remaining() const { return size_ - offset_; }
  void expect_end() const {
    if (offset_ != size_) throw FormatError(what_ + " has " + std::to_string(size_ - offset_) + " unexpected trailing bytes");
  }
  const std::string& what() const { return what_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
  std::string what_;
};

}  // namespace vecindex
