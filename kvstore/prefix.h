// PrefixEnd: the end of the mvcc range that holds every key with a prefix.
//
// Thread-safety: pure function.
#ifndef REVKV_KVSTORE_PREFIX_H_
#define REVKV_KVSTORE_PREFIX_H_

#include <string>
#include <string_view>

namespace revkv::kvstore {

// The smallest key greater than every key that starts with `prefix` (etcd's
// GetPrefixRangeEnd); "\0", which mvcc reads as "every key from the start",
// if there is none (prefix empty or all 0xff).
inline std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = char(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_PREFIX_H_
