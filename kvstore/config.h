// Config and backend names of the libkv store (libnetwork/internal/kvstore).
// Plain values; copy freely.
#ifndef REVKV_KVSTORE_CONFIG_H_
#define REVKV_KVSTORE_CONFIG_H_

#include <chrono>
#include <string>
#include <string_view>

namespace revkv::kvstore {

// libkv's `Backend` names. Only kRevkv is supported (libkv's BOLTDB plays
// the same role: a local, single-process file).
inline constexpr std::string_view kRevkv = "revkv";

struct Config {
  // How long New waits for the database file's lock when another handle (in
  // this or another process) holds it, as bbolt's Options.Timeout, which
  // libnetwork feeds from ConnectionTimeout. Unlike bbolt, zero does not wait
  // forever: it fails at once with the lock error.
  std::chrono::milliseconds connection_timeout{0};
  // The key space: keys of different buckets never see each other. Required
  // (libnetwork uses "libnetwork"); must not contain '/'.
  std::string bucket;
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_CONFIG_H_
