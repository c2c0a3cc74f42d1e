#include "filter/bitmap.h"

#include "util/errors.h"

namespace vecindex {

namespace {
size_t words_for(size_t bits) { return (bits + 63) / 64; }
}  // namespace

Bitmap::Bitmap(size_t size, bool value) : size_(size), words_(words_for(size), value ? ~uint64_t{0} : 0) {
  clear_tail();
}

void Bitmap::resize(size_t size) {
  size_t old_size = size_;
  size_ = size;
  words_.resize(words_for(size), 0);
  if (size < old_size) clear_tail();
}

void Bitmap::fill(bool value) {
  for (auto& word : words_) word = value ? ~uint64_t{0} : 0;
  clear_tail();
}

size_t Bitmap::count() const {
  size_t total = 0;
  for (uint64_t word : words_) total += static_cast<size_t>(__builtin_popcountll(word));
  return total;
}

bool Bitmap::any() const {
  for (uint64_t word : words_)
    if (word) return true;
  return false;
}

Bitmap& Bitmap::operator&=(const Bitmap& other) {
  if (other.size_ != size_) throw InvalidArgument("bitmap sizes differ");
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= other.words_[i];
  return *this;
}

Bitmap& Bitmap::operator|=(const Bitmap& other) {
  if (other.size_ != size_) throw InvalidArgument("bitmap sizes differ");
  for (size_t i = 0; i < words_.size(); ++i) words_[i] |= other.words_[i];
  return *this;
}

Bitmap& Bitmap::and_not(const Bitmap& other) {
  if (other.size_ != size_) throw InvalidArgument("bitmap sizes differ");
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= ~other.words_[i];
  return *this;
}

void Bitmap::flip() {
  for (auto& word : words_) word = ~word;
  clear_tail();
}

std::vector<uint32_t> Bitmap::to_slots() const {
  std::vector<uint32_t> slots;
  slots.reserve(count());
  for_each([&](uint32_t slot) { slots.push_back(slot); });
  return slots;
}

void Bitmap::clear_tail() {
  size_t used = size_ & 63;
  if (used != 0 && !words_.empty()) words_.back() &= (uint64_t{1} << used) - 1;
}

bool Bitmap::tail_is_clear() const {
  size_t used = size_ & 63;
  if (used == 0 || words_.empty()) return true;
  return (words_.back() >> used) == 0;
}

void save_bitmap(ByteWriter& out, const Bitmap& bitmap) {
  out.put_array(bitmap.words().data(), bitmap.words().size());
}

Bitmap load_bitmap(ByteReader& in, size_t size, const char* what) {
  if ((size + 63) / 64 > in.remaining() / 8)
    throw FormatError(in.what() + ": " + what + " is truncated (declares " + std::to_string(size) + " rows)");
  Bitmap bitmap(size);
  in.get_array(bitmap.mutable_words().data(), bitmap.words().size());
  if (!bitmap.tail_is_clear())
    throw FormatError(in.what() + ": " + what + " has bits set past its " + std::to_string(size) + " rows");
  return bitmap;
}

}  // namespace vecindex
