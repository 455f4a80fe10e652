// revkv's release version. Thread-safe: constants only.
#ifndef REVKV_VERSION_H_
#define REVKV_VERSION_H_

namespace revkv {

inline constexpr char kVersion[] = "0.1.0";
// etcd's API version whose behaviour revkv follows.
inline constexpr char kApiVersion[] = "3.4";

}  // namespace revkv

#endif  // REVKV_VERSION_H_
