// File system helpers with the system's error reason in every exception.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "io/container.h"
#include "util/errors.h"

namespace vecindex::io {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw IoError(what + " '" + path + "': " + std::strerror(error));
}

std::string parent_folder(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A temp name no other save can be using: the pid tells processes apart, a per-process counter
// tells calls (and threads) apart, and a random per-process salt tells apart processes that
// share the pid on different hosts of one network file system.
uint32_t random_salt() {
  try {
    return std::random_device{}();
  } catch (const std::exception&) {  // no entropy source: the clock still differs between hosts
    return uint32_t(std::chrono::steady_clock::now().time_since_epoch().count());
  }
}

std::string temp_name(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  static const uint32_t salt = random_salt();
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%llu-%08x", long(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)), unsigned(salt));
  return path + suffix;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::string temp = temp_name(path);
  // O_EXCL: should a name ever collide, the other save's file is never opened, let alone replaced.
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  for (int attempt = 0; fd < 0 && errno == EEXIST && attempt < 8; ++attempt) {
    temp = temp_name(path);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  if (fd < 0) fail("cannot create", temp, errno);
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      fail("cannot write", temp, error);
    }
    written += size_t(n);
  }
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    fail("cannot flush", temp, error);
  }
  if (::close(fd) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    fail("cannot close", temp, error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int error = errno;
    ::unlink(temp.c_str());
    fail("cannot replace", path, error);
  }
  // Make the rename itself durable; failure here leaves a complete file, so it is not fatal.
  int folder = ::open(parent_folder(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder >= 0) {
    ::fsync(folder);
    ::close(folder);
  }
}

std::vector<uint8_t> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path, errno);
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    fail("cannot stat", path, error);
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    fail("cannot read", path, EISDIR);
  }
  std::vector<uint8_t> bytes(size_t(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::close(fd);
      fail("cannot read", path, error);
    }
    if (n == 0) break;
    done += size_t(n);
  }
  ::close(fd);
  bytes.resize(done);
  return bytes;
}

}  // namespace vecindex::io
