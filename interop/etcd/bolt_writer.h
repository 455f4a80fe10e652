// BoltWriter: writes a new bbolt 1.3 file (the format etcd 3.4 opens) from
// top-level buckets whose entries arrive in key order -- the way back from
// revkv to etcd (export.h).
//
// Streaming: leaves are written as they fill, page after page from page 2;
// only the branch levels above them (one entry per page below) are held in
// memory until a bucket ends. Finish writes the root bucket's page, an empty
// freelist page and the two meta pages (same commit, checksummed), then
// fsyncs. Every page names itself, branch keys are their child's first
// key, values too large for a page take overflow pages: what bbolt's own
// writer produces for a bulk load, without history or free pages.
//
// Thread-safety: one thread at a time.
#ifndef REVKV_INTEROP_ETCD_BOLT_WRITER_H_
#define REVKV_INTEROP_ETCD_BOLT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::interop::etcd {

class BoltWriter {
 public:
  // Creates `path`, which must not exist.
  static absl::StatusOr<std::unique_ptr<BoltWriter>> Create(const std::string& path,
                                                            uint32_t page_size = 4096);
  ~BoltWriter();
  BoltWriter(const BoltWriter&) = delete;
  BoltWriter& operator=(const BoltWriter&) = delete;

  // A new top-level bucket; names must be unique (any order).
  absl::Status BeginBucket(std::string_view name);
  // An entry of the open bucket; keys strictly ascending, non-empty.
  absl::Status Add(std::string_view key, std::string_view value);
  absl::Status EndBucket();
  // Writes the root, freelist and metas (txid `txid`), fsyncs, closes.
  absl::Status Finish(uint64_t txid);

 private:
  struct Item {
    std::string key;
    std::string value;  // leaves: the value; the root: a bucket header
    uint32_t flags = 0;
    uint64_t child = 0;  // branches
  };
  BoltWriter(int fd, std::string path, uint32_t page_size);
  // Writes items as one page span of kind `flags`; returns its id.
  absl::StatusOr<uint64_t> WriteNode(const std::vector<Item>& items, uint16_t flags);
  absl::Status WriteSpan(uint64_t id, const std::string& bytes);
  // Writes the pending leaf, if any, into level 0.
  absl::Status FlushLeaf();
  // Builds the levels above the leaves; returns the bucket's root page.
  absl::StatusOr<uint64_t> FinishTree(std::vector<Item> level);
  size_t NodeSize(const std::vector<Item>& items) const;

  int fd_;
  std::string path_;
  uint32_t page_size_;
  uint64_t next_ = 2;  // pages 0 and 1 are the metas
  bool in_bucket_ = false;
  std::string bucket_name_;
  std::vector<Item> leaf_;       // the leaf being filled
  size_t leaf_bytes_ = 0;
  std::vector<Item> leaves_;     // (first key, page) of the bucket's leaves
  std::string last_key_;
  bool have_last_ = false;
  std::vector<Item> root_;       // top-level buckets
};

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_WRITER_H_
