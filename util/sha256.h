// Sha256: an incremental SHA-256 (OpenSSL's EVP), for etcd's snapshot
// stream, whose last 32 bytes are the SHA-256 of the bytes before them.
//
// Thread-safety: not thread-safe; one hasher per thread.
#ifndef REVKV_UTIL_SHA256_H_
#define REVKV_UTIL_SHA256_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace revkv::util {

inline constexpr size_t kSha256Size = 32;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // The 32-byte digest of everything updated so far; the hasher restarts.
  std::string Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace revkv::util

#endif  // REVKV_UTIL_SHA256_H_
