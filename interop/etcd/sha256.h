// SHA-256 (FIPS 180-4), for the 32-byte digest etcd appends to a snapshot
// (etcdctl snapshot restore verifies it). Small and dependency-free: the
// one hash etcd's format needs is not worth a crypto library.
//
// Thread-safety: a Sha256 object is used by one thread at a time.
#ifndef REVKV_INTEROP_ETCD_SHA256_H_
#define REVKV_INTEROP_ETCD_SHA256_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace revkv::interop::etcd {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  // The digest of everything updated; the object is spent afterwards.
  std::array<uint8_t, 32> Final();

 private:
  void Block(const uint8_t* p);

  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes
};

// Lower-case hex of a digest.
std::string Hex(const std::array<uint8_t, 32>& d);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_SHA256_H_
