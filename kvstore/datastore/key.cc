#include "kvstore/datastore/key.h"

namespace revkv::kvstore::datastore {

std::string Key(const std::vector<std::string>& segments) {
  std::string key = std::string(kRootChain) + "/";
  for (const std::string& s : segments) {
    key += s;
    key += '/';
  }
  return key;
}

}  // namespace revkv::kvstore::datastore
