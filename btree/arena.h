// Arena: bump allocator for the bytes a write transaction copies in (keys,
// values, nodes). Freed all at once when the transaction ends.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_BTREE_ARENA_H_
#define REVKV_BTREE_ARENA_H_

#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace revkv::btree {

class Arena {
 public:
  char* Allocate(size_t n) {
    if (n > kBlock / 4) {
      blocks_.push_back(std::make_unique<char[]>(n));
      return blocks_.back().get();
    }
    if (n > left_) {
      blocks_.push_back(std::make_unique<char[]>(kBlock));
      next_ = blocks_.back().get();
      left_ = kBlock;
    }
    char* p = next_;
    next_ += n;
    left_ -= n;
    return p;
  }
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return std::string_view();
    char* p = Allocate(s.size());
    std::memcpy(p, s.data(), s.size());
    return std::string_view(p, s.size());
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_ARENA_H_
