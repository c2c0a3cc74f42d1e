#include "io/container.h"

#include <algorithm>
#include <cstring>

#include "util/bytes.h"
#include "util/crc32.h"
#include "util/errors.h"

namespace vecindex::io {
namespace {

constexpr char kMagic[8] = {'V', 'E', 'C', 'I', 'N', 'D', 'X', '\0'};
constexpr uint32_t kEndianMark = 0x01020304u;
constexpr size_t kHeaderBytes = 24;
constexpr size_t kEntryBytes = 32;
constexpr size_t kAlign = 64;

size_t align_up(size_t value) { return (value + kAlign - 1) / kAlign * kAlign; }

void require_zero_padding(const uint8_t* bytes, size_t length) {
  for (size_t i = 0; i < length; ++i)
    if (bytes[i] != 0) throw FormatError("alignment padding between sections is not zero (file is corrupt)");
}

}  // namespace

std::string tag_name(uint32_t tag) {
  std::string name(4, ' ');
  for (int i = 0; i < 4; ++i) {
    char c = char((tag >> (8 * i)) & 0xFF);
    name[i] = (c >= 32 && c < 127) ? c : '?';
  }
  return name;
}

std::vector<uint8_t> build_container(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& sections,
                                     uint32_t version) {
  ByteWriter table;
  size_t offset = align_up(kHeaderBytes + sections.size() * kEntryBytes);
  size_t end = offset;
  for (const auto& [tag, bytes] : sections) {
    table.put<uint32_t>(tag);
    table.put<uint32_t>(0);
    table.put<uint64_t>(offset);
    table.put<uint64_t>(bytes.size());
    table.put<uint32_t>(crc32(bytes.data(), bytes.size()));
    table.put<uint32_t>(0);
    end = offset + bytes.size();
    offset = align_up(end);
  }
  // No padding after the last section: the file ends exactly where its data does, so any
  // truncation is detectable.
  std::vector<uint8_t> image(end, 0);
  std::memcpy(image.data(), kMagic, 8);
  uint32_t header[4] = {version, kEndianMark, uint32_t(sections.size()),
                        crc32(table.buffer().data(), table.buffer().size())};
  std::memcpy(image.data() + 8, header, sizeof(header));
  std::memcpy(image.data() + kHeaderBytes, table.buffer().data(), table.buffer().size());
  size_t position = align_up(kHeaderBytes + sections.size() * kEntryBytes);
  for (const auto& section : sections) {
    if (!section.second.empty()) std::memcpy(image.data() + position, section.second.data(), section.second.size());
    position = align_up(position + section.second.size());
  }
  return image;
}

uint32_t format_version(const uint8_t* data) {
  uint32_t version;
  std::memcpy(&version, data + 8, sizeof(version));
  return version;
}

std::map<uint32_t, SectionView> parse_container(const uint8_t* data, size_t size, bool verify_checksums) {
  if (size < kHeaderBytes) throw FormatError("not a vecindex file: too short (" + std::to_string(size) + " bytes)");
  if (std::memcmp(data, kMagic, 8) != 0) throw FormatError("not a vecindex file: bad magic number");
  ByteReader header(data + 8, kHeaderBytes - 8, "file header");
  uint32_t version = header.get<uint32_t>();
  uint32_t endian = header.get<uint32_t>();
  uint32_t count = header.get<uint32_t>();
  uint32_t table_crc = header.get<uint32_t>();
  if (endian != kEndianMark) throw FormatError("file was written on a machine of the other endianness");
  if (version == 0 || version > kFormatVersion)
    throw FormatError("file format version " + std::to_string(version) + " is not supported (this build reads up to " +
                      std::to_string(kFormatVersion) + ")");
  if (count > kMaxSections) throw FormatError("file declares " + std::to_string(count) + " sections");
  if ((size - kHeaderBytes) / kEntryBytes < count) throw FormatError("file is truncated inside its section table");
  const uint8_t* table_bytes = data + kHeaderBytes;
  if (crc32(table_bytes, count * kEntryBytes) != table_crc) throw FormatError("section table checksum mismatch");

  // The writer lays sections out in table order, each at the first 64-byte boundary after the
  // previous one, and zero-fills the gaps. Requiring exactly that leaves no byte of the file
  // unchecked: header fields are validated, the table and sections carry CRCs, gaps must be zero.
  std::map<uint32_t, SectionView> sections;
  size_t covered = kHeaderBytes + count * kEntryBytes;  // bytes accounted for so far
  ByteReader table(table_bytes, count * kEntryBytes, "section table");
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = table.get<uint32_t>();
    uint32_t flags = table.get<uint32_t>();
    uint64_t offset = table.get<uint64_t>();
    uint64_t length = table.get<uint64_t>();
    uint32_t crc = table.get<uint32_t>();
    uint32_t reserved = table.get<uint32_t>();
    if (flags != 0 || reserved != 0) throw FormatError("section '" + tag_name(tag) + "' has unknown flags");
    if (offset > size || length > size - offset)
      throw FormatError("section '" + tag_name(tag) + "' lies outside the file (file is truncated?)");
    if (offset != align_up(covered))
      throw FormatError("section '" + tag_name(tag) + "' is at offset " + std::to_string(offset) + ", expected " +
                        std::to_string(align_up(covered)));
    require_zero_padding(data + covered, offset - covered);
    if (verify_checksums && crc32(data + offset, length) != crc)
      throw FormatError("section '" + tag_name(tag) + "' checksum mismatch (file is corrupt)");
    if (!sections.emplace(tag, SectionView{data + offset, size_t(length)}).second)
      throw FormatError("section '" + tag_name(tag) + "' appears twice");
    covered = offset + length;
  }
  if (covered != size)
    throw FormatError("file size " + std::to_string(size) + " does not match its section table (expected " +
                      std::to_string(covered) + " bytes: truncated or has trailing data)");
  return sections;
}

}  // namespace vecindex::io
