// File primitives shared by the checkpoint formats. Everything becomes visible under its final
// name only after its bytes are fsynced, and a replaced directory is swapped in by renames, so a
// crash leaves the old state or the new one, never a half-written mix. Header-only because it is
// private to core/checkpoint/.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace stilts::checkpoint_io {

inline std::runtime_error os_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // close(2) can report a failed write-back that a destructor would have to swallow.
  void close(const std::string& path) {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) throw os_error(path, "close failed");
  }

 private:
  int fd_ = -1;
};

inline UniqueFd open_file(const std::string& path, int flags, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw os_error(path, "cannot open");
  return UniqueFd(fd);
}

inline uint64_t file_size(const UniqueFd& fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw os_error(path, "cannot stat");
  return static_cast<uint64_t>(st.st_size);
}

// pread(2) may return fewer bytes than asked (signals, the 2 GiB per-call cap), so loop; a
// zero return means the file is shorter than the caller validated, e.g. truncated meanwhile.
inline void read_at(const UniqueFd& fd, void* dst, size_t n, uint64_t offset,
                    const std::string& path) {
  auto* out = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd.get(), out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw os_error(path, "read failed at byte " + std::to_string(offset));
    if (got == 0)
      throw std::runtime_error(path + ": file ends at byte " + std::to_string(offset) +
                               " although " + std::to_string(n) +
                               " more bytes were expected (truncated while reading?)");
    out += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

inline void write_all(const UniqueFd& fd, const void* src, size_t n, const std::string& path) {
  const auto* in = static_cast<const char*>(src);
  while (n > 0) {
    const ssize_t put = ::write(fd.get(), in, n);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) throw os_error(path, "write failed");
    in += put;
    n -= static_cast<size_t>(put);
  }
}

// Works for files and directories alike; a directory must be synced for a rename or a new
// entry in it to survive a crash.
inline void sync_path(const std::string& path) {
  UniqueFd fd = open_file(path, O_RDONLY);
  if (::fsync(fd.get()) != 0) throw os_error(path, "fsync failed");
  fd.close(path);
}

inline std::string parent_dir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Writes through `write_body` into "<path>.tmp", fsyncs, then renames over `path`.
inline void write_file_atomically(const std::string& path,
                                  const std::function<void(const UniqueFd&)>& write_body) {
  const std::string tmp = path + ".tmp";
  try {
    UniqueFd fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    write_body(fd);
    if (::fsync(fd.get()) != 0) throw os_error(tmp, "fsync failed");
    fd.close(tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw os_error(path, "cannot rename " + tmp);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  sync_path(parent_dir(path));
}

inline void write_text_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path,
                        [&](const UniqueFd& fd) { write_all(fd, text.data(), text.size(), path); });
}

inline std::string read_text_file(const std::string& path) {
  UniqueFd fd = open_file(path, O_RDONLY);
  std::string text(file_size(fd, path), '\0');
  read_at(fd, text.data(), text.size(), 0, path);
  return text;
}

inline nlohmann::json read_json_file(const std::string& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

// A per-process sibling name, so concurrent writers never share a staging directory.
inline std::string staging_path(const std::string& path, const char* kind) {
  return path + "." + kind + "-" + std::to_string(::getpid());
}

// A directory being filled before it is renamed into place; removed unless committed, so an
// error never leaves a half-written directory behind.
class StagingDir {
 public:
  explicit StagingDir(std::string path) : path_(std::move(path)) {
    // A leftover of a crashed run whose process had the same id (common in containers).
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir() {
    std::error_code ignored;
    if (!committed_) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // fsyncs the staged directory and renames it to `target`. An existing non-empty `target`
  // is renamed away first and deleted only once the new one is in place; if moving the new
  // one in fails, the old one is moved back.
  void commit(const std::string& target) {
    namespace fs = std::filesystem;
    sync_path(path_);
    if (fs::exists(target) && !fs::is_directory(target))
      throw std::runtime_error(target + ": exists and is not a directory");
    if (fs::exists(target) && !fs::is_empty(target)) {
      const std::string old = staging_path(target, "old");
      fs::remove_all(old);
      fs::rename(target, old);
      try {
        fs::rename(path_, target);
      } catch (...) {
        fs::rename(old, target);
        throw;
      }
      committed_ = true;
      fs::remove_all(old);
    } else {
      // rename(2) replaces an empty directory.
      fs::rename(path_, target);
      committed_ = true;
    }
    sync_path(parent_dir(target));
  }

 private:
  std::string path_;
  bool committed_ = false;
};

}  // namespace stilts::checkpoint_io
