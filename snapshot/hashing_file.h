// HashingFileBuf: a std::streambuf writing to a file descriptor and hashing
// every byte with XXH3-64 on the way, so a snapshot streams to disk in one
// pass. Errors are sticky and reported by status().
//
// Thread-safety: not thread-safe.
#ifndef REVKV_SNAPSHOT_HASHING_FILE_H_
#define REVKV_SNAPSHOT_HASHING_FILE_H_

#include <xxhash.h>

#include <cstdint>
#include <streambuf>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace revkv::snapshot {

class HashingFileBuf : public std::streambuf {
 public:
  HashingFileBuf(int fd, std::string path);
  ~HashingFileBuf() override;
  // Writes buffered bytes.
  absl::Status Flush();
  uint64_t hash() const { return XXH3_64bits_digest(state_); }
  uint64_t bytes() const { return bytes_; }
  absl::Status status() const { return status_; }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override { return Flush().ok() ? 0 : -1; }

 private:
  bool WriteRaw(const char* p, size_t n);
  int fd_;
  std::string path_;
  XXH3_state_t* state_;
  std::vector<char> buf_;
  uint64_t bytes_ = 0;
  absl::Status status_;
};

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_HASHING_FILE_H_
