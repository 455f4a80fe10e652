// CompactKey: an owned key in 24 bytes that keeps keys of up to 20 bytes
// inline, so that comparing them while searching the index touches only the
// index's own nodes (most etcd keys in benchmarks and many in practice are
// short). Longer keys live in one heap block.
//
// A view of an inline key points into the CompactKey itself: it is valid only
// until the CompactKey moves (a B-tree moves entries when it inserts or
// erases), so take views only under the lock that keeps the tree still.
//
// Thread-compatible.
#ifndef REVKV_MVCC_COMPACT_KEY_H_
#define REVKV_MVCC_COMPACT_KEY_H_

#include <cstdint>
#include <cstring>
#include <string_view>

namespace revkv::mvcc {

class CompactKey {
 public:
  static constexpr size_t kInlineBytes = 20;

  explicit CompactKey(std::string_view s) : size_(uint32_t(s.size())) {
    if (s.size() <= kInlineBytes) {
      // An empty view may have a null data(), which memcpy must not get.
      if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());
    } else {
      char* heap = new char[s.size()];
      std::memcpy(heap, s.data(), s.size());
      set_heap(heap);
    }
  }
  CompactKey(CompactKey&& o) noexcept : size_(o.size_) {
    std::memcpy(bytes_, o.bytes_, sizeof bytes_);
    o.size_ = 0;
  }
  CompactKey& operator=(CompactKey&& o) noexcept {
    if (this != &o) {
      Free();
      size_ = o.size_;
      std::memcpy(bytes_, o.bytes_, sizeof bytes_);
      o.size_ = 0;
    }
    return *this;
  }
  CompactKey(const CompactKey& o) : CompactKey(std::string_view(o)) {}
  CompactKey& operator=(const CompactKey& o) { return *this = CompactKey(o); }
  ~CompactKey() { Free(); }

  operator std::string_view() const {
    return std::string_view(is_inline() ? bytes_ : heap(), size_);
  }
  size_t size() const { return size_; }
  // Heap bytes owned beyond the object (malloc rounds to 16 and adds 8).
  size_t HeapBytes() const { return is_inline() ? 0 : (size_ + 8 + 15) / 16 * 16; }

 private:
  // A heap key keeps its pointer in the last 8 of the inline bytes (offset
  // 16, so it is aligned).
  static constexpr size_t kPointerAt = kInlineBytes - sizeof(char*);

  bool is_inline() const { return size_ <= kInlineBytes; }
  char* heap() const {
    char* p;
    std::memcpy(&p, bytes_ + kPointerAt, sizeof p);
    return p;
  }
  void set_heap(char* p) { std::memcpy(bytes_ + kPointerAt, &p, sizeof p); }
  void Free() {
    if (!is_inline()) delete[] heap();
    size_ = 0;
  }

  uint32_t size_;
  char bytes_[kInlineBytes];
};

static_assert(sizeof(CompactKey) == 24);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_COMPACT_KEY_H_
