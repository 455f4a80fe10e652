// Keys of libnetwork's datastore: the constants and Key(), which builds a
// store key from path segments.
//
// Key("network", "n1") is "docker/network/v1.0/network/n1/": libnetwork's
// root chain "docker/network/v1.0", then each segment, each followed by '/'.
//
// Thread-safety: constants and pure functions.
#ifndef REVKV_KVSTORE_DATASTORE_KEY_H_
#define REVKV_KVSTORE_DATASTORE_KEY_H_

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace revkv::kvstore::datastore {

// The prefix for network keys in the store.
inline constexpr char kNetworkKeyPrefix[] = "network";
// The prefix for endpoint keys in the store.
inline constexpr char kEndpointKeyPrefix[] = "endpoint";
// The libkv bucket libnetwork uses.
inline constexpr char kDefaultBucket[] = "libnetwork";
// Every key starts with these segments.
inline constexpr char kRootChain[] = "docker/network/v1.0";

// The store key of the object whose key is `segments`.
std::string Key(const std::vector<std::string>& segments);

// Key("a", "b", ...).
template <typename... S>
  requires(std::convertible_to<const S&, std::string_view> && ...)
std::string Key(const S&... segments) {
  return Key(std::vector<std::string>{std::string(std::string_view(segments))...});
}

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_KVSTORE_DATASTORE_KEY_H_
