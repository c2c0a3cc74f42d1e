// The vecindex file container: a fixed header, a section table, then 64-byte aligned
// sections. Every section has a length and CRC-32; the header and table carry their own
// CRC. Parsing checks every offset and length against the real size before anything is used.
//
// Layout (little-endian):
//   0   magic "VECINDX\0"  (8 bytes)
//   8   format version      u32
//   12  endianness mark     u32 = 0x01020304 (reads 0x04030201 on a big-endian writer)
//   16  section count       u32
//   20  table CRC-32        u32   (over the section table bytes)
//   24  section table: count x {tag u32, flags u32, offset u64, length u64, crc u32, reserved u32}
//   ... sections in table order, each starting on the first 64-byte boundary after the
//       previous one; the gaps are zero and the file ends where the last section does
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vecindex::io {

// 2: the graph section pads its int8 levels with zeros so the level-0 lists start 4-byte
// aligned (a mapped load reads them in place). Version 1 files (no padding) still load.
// 3: the file may hold a KEYS section (string keys). Only such files are written as version 3,
// so a build that reads up to version 2 refuses them instead of loading internal ids as keys;
// every other file is still written as version 2.
constexpr uint32_t kFormatVersion = 3;      // newest version this build reads
constexpr uint32_t kStringKeysVersion = 3;  // first version that may hold string keys
constexpr uint32_t kBaseWriteVersion = 2;   // what a file without string keys is written as
constexpr uint32_t kMaxSections = 64;

constexpr uint32_t make_tag(const char (&name)[5]) {
  return uint32_t(uint8_t(name[0])) | (uint32_t(uint8_t(name[1])) << 8) | (uint32_t(uint8_t(name[2])) << 16) |
         (uint32_t(uint8_t(name[3])) << 24);
}

struct SectionView {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Builds a complete file image from tagged sections.
std::vector<uint8_t> build_container(const std::vector<std::pair<uint32_t, std::vector<uint8_t>>>& sections,
                                     uint32_t version = kBaseWriteVersion);

// Validates header, table and checksums; returns each section by tag. Throws FormatError.
std::map<uint32_t, SectionView> parse_container(const uint8_t* data, size_t size, bool verify_checksums = true);

// The format version of an image parse_container has accepted.
uint32_t format_version(const uint8_t* data);

std::string tag_name(uint32_t tag);

// Atomic save: write a temp file beside `path` (`<path>.tmp-<pid>-<counter>-<salt>`, unique per
// call, so concurrent saves to one path never share it), fsync, rename over `path`, fsync the
// folder. Throws IoError with the system's reason; on failure the previous file is left intact.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

// Reads a whole file; throws IoError.
std::vector<uint8_t> read_file(const std::string& path);

}  // namespace vecindex::io
