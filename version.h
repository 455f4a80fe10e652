// revkv's release version. Thread-safe: constants only.
#ifndef REVKV_VERSION_H_
#define REVKV_VERSION_H_

namespace revkv {

inline constexpr char kVersion[] = "0.1.0";
// etcd's API version whose behaviour revkv follows.
inline constexpr char kApiVersion[] = "3.4";
// The etcdctl release whose command line (flags, output, exit codes) revkv's
// CLI follows; `revkv version` prints it where etcdctl prints its own.
inline constexpr char kEtcdctlVersion[] = "3.4.23";

}  // namespace revkv

#endif  // REVKV_VERSION_H_
