// Consistency check and statistics: walks of a snapshot's pages.
#include <cstring>
#include <optional>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "btree/tx.h"

namespace revkv::btree {
namespace internal {

constexpr int kMaxDepth = 64;

// Walks every tree of a snapshot, verifying pages and key order.
class Checker {
 public:
  explicit Checker(Tx* tx, const MetaBody& meta, uint32_t page_size)
      : tx_(tx), meta_(meta), ps_(page_size), seen_(meta.high_water, 0) {}

  std::vector<std::string> Run() {
    seen_[0] = seen_[1] = 1;
    CheckFreelist();
    CheckTree(meta_.root.root, "<catalog>", std::nullopt, std::nullopt, 0, true);
    ReportUnaccounted();
    return std::move(problems_);
  }

 private:
  template <typename... Args>
  void Problem(const absl::FormatSpec<Args...>& fmt, const Args&... args) {
    problems_.push_back(absl::StrFormat(fmt, args...));
  }

  // A verified span, or nullptr after recording why not.
  const char* Load(pgid_t id, PageKind kind, uint32_t* pages) {
    absl::StatusOr<const char*> p = tx_->Span(id, kind, pages);
    if (!p.ok()) {
      Problem("%s", p.status().message());
      return nullptr;
    }
    const uint64_t bytes = uint64_t{*pages} * ps_;
    if (ComputeChecksum(*p, bytes) != Header(*p)->checksum) {
      Problem("%s", CorruptPage(id, "checksum mismatch").message());
    }
    return *p;
  }

  bool Mark(pgid_t id, uint64_t pages, std::string_view what) {
    for (pgid_t p = id; p < id + pages; ++p) {
      if (p >= seen_.size()) {
        Problem("page %d (%s) is beyond the high-water mark %d", p, what, seen_.size());
        return false;
      }
      if (seen_[p] != 0) {
        Problem("page %d (%s) is %s", p, what,
                seen_[p] == 2 ? "both free and in use" : "referenced twice");
        return false;
      }
      seen_[p] = 1;
    }
    return true;
  }

  void CheckFreelist() {
    uint32_t pages;
    const char* p = Load(meta_.freelist, PageKind::kFreelist, &pages);
    if (p == nullptr) return;
    Mark(meta_.freelist, pages, "freelist");
    std::vector<FreeExtent> extents;
    if (!DecodeFreeExtents(std::string_view(p + sizeof(PageHeader),
                                            uint64_t{pages} * ps_ - sizeof(PageHeader)),
                           Header(p)->count, &extents)) {
      Problem("%s", CorruptPage(meta_.freelist, "malformed extents").message());
      return;
    }
    for (const FreeExtent& e : extents) {
      for (pgid_t q = e.start; q < e.start + e.count; ++q) {
        if (q < 2 || q >= seen_.size()) {
          Problem("free page %d is outside the file", q);
          break;
        }
        if (seen_[q] != 0) Problem("page %d is listed free twice", q);
        seen_[q] = 2;
      }
    }
  }

  void CheckTree(pgid_t id, const std::string& bucket, std::optional<std::string_view> lo,
                 std::optional<std::string_view> hi, int depth, bool is_root) {
    if (depth > kMaxDepth) {
      Problem("bucket %s: tree deeper than %d levels", bucket, kMaxDepth);
      return;
    }
    uint32_t pages;
    const char* p = Load(id, PageKind::kBranch, &pages);
    if (p == nullptr) return;
    if (!Mark(id, pages, "bucket " + bucket)) return;
    NodeView v(p, size_t{pages} * ps_);
    if (!v.ElementsFit()) {
      Problem("%s", CorruptPage(id, "element count exceeds the page").message());
      return;
    }
    if (!v.is_leaf() && v.count() == 0) Problem("%s", CorruptPage(id, "empty branch").message());
    if (v.is_leaf() && v.count() == 0 && !is_root) {
      Problem("%s", CorruptPage(id, "empty non-root leaf").message());
    }
    std::string_view prev;
    for (uint32_t i = 0; i < v.count(); ++i) {
      uint32_t flags = 0;
      std::string_view key, value;
      pgid_t child = 0;
      bool ok = v.is_leaf() ? v.LeafAt(i, &flags, &key, &value) : v.BranchAt(i, &key, &child);
      if (!ok) {
        Problem("%s", CorruptPage(id, absl::StrFormat("element %d points outside", i)).message());
        return;
      }
      if (i > 0 && key <= prev) {
        Problem("%s", CorruptPage(id, absl::StrFormat("keys out of order at element %d", i)).message());
      }
      if ((lo && key < *lo) || (hi && key >= *hi)) {
        Problem("%s", CorruptPage(id, absl::StrFormat("key at element %d is outside the "
                                                      "bounds its parent gives", i)).message());
      }
      prev = key;
      if (!v.is_leaf()) {
        std::optional<std::string_view> next_hi = hi;
        if (i + 1 < v.count()) {
          std::string_view nk;
          if (v.KeyAt(i + 1, &nk)) next_hi = nk;
        }
        CheckTree(child, bucket, key, next_hi, depth + 1, false);
      } else if (flags & kBucketFlag) {
        BucketHeader h;
        if (value.size() != sizeof h) {
          Problem("%s", CorruptPage(id, "bucket header of the wrong size").message());
          continue;
        }
        std::memcpy(&h, value.data(), sizeof h);
        std::string name = bucket == "<catalog>" ? std::string(key)
                                                 : bucket + "/" + std::string(key);
        CheckTree(h.root, name, std::nullopt, std::nullopt, depth + 1, true);
      } else if (flags & kBigValueFlag) {
        BigValueRef ref;
        if (value.size() != sizeof ref) {
          Problem("%s", CorruptPage(id, "large value reference of the wrong size").message());
          continue;
        }
        std::memcpy(&ref, value.data(), sizeof ref);
        uint32_t vpages;
        const char* vp = Load(ref.pgid, PageKind::kOverflow, &vpages);
        if (vp == nullptr) continue;
        Mark(ref.pgid, vpages, "large value");
        if (Header(vp)->count != ref.size) {
          Problem("%s", CorruptPage(ref.pgid, "large value size does not match").message());
        }
      }
    }
  }

  void ReportUnaccounted() {
    for (pgid_t p = 2; p < seen_.size();) {
      if (seen_[p] != 0) {
        ++p;
        continue;
      }
      pgid_t start = p;
      while (p < seen_.size() && seen_[p] == 0) ++p;
      if (p - start == 1) {
        Problem("page %d is neither reachable nor free", start);
      } else {
        Problem("pages %d-%d are neither reachable nor free", start, p - 1);
      }
    }
  }

  Tx* tx_;
  MetaBody meta_;
  uint32_t ps_;
  std::vector<uint8_t> seen_;  // 0 unseen, 1 in use, 2 free
  std::vector<std::string> problems_;
};

struct TreeWalk {
// Adds the pages and keys of the tree at `id` to *stats; nested buckets are
// reported through `nested`.
static absl::Status Run(Tx* tx, pgid_t id, int depth, BucketStats* stats,
                      const std::function<absl::Status(std::string_view, pgid_t)>& nested) {
  if (depth > kMaxDepth) return absl::DataLossError("btree: tree deeper than 64 levels");
  absl::StatusOr<NodeView> v = tx->NodePage(id);
  if (!v.ok()) return v.status();
  uint64_t pages = uint64_t{v->header()->overflow} + 1;
  stats->depth = std::max<uint64_t>(stats->depth, uint64_t(depth) + 1);
  stats->bytes_in_use += pages * tx->page_size();
  if (v->is_leaf()) {
    stats->leaf_pages += pages;
    for (uint32_t i = 0; i < v->count(); ++i) {
      uint32_t flags;
      std::string_view key, value;
      if (!v->LeafAt(i, &flags, &key, &value)) return CorruptPage(id, "element points outside");
      if (flags & kBucketFlag) {
        stats->bucket_count++;
        BucketHeader h;
        if (value.size() != sizeof h) return CorruptPage(id, "bucket header of the wrong size");
        std::memcpy(&h, value.data(), sizeof h);
        if (nested) {
          if (absl::Status s = nested(key, h.root); !s.ok()) return s;
        }
      } else {
        stats->key_count++;
        if (flags & kBigValueFlag) {
          BigValueRef ref;
          if (value.size() != sizeof ref) return CorruptPage(id, "bad large value reference");
          std::memcpy(&ref, value.data(), sizeof ref);
          uint64_t vp = PagesFor(sizeof(PageHeader) + ref.size, tx->page_size());
          stats->overflow_pages += vp;
          stats->bytes_in_use += vp * tx->page_size();
        }
      }
    }
    return absl::OkStatus();
  }
  stats->branch_pages += pages;
  for (uint32_t i = 0; i < v->count(); ++i) {
    std::string_view key;
    pgid_t child;
    if (!v->BranchAt(i, &key, &child)) return CorruptPage(id, "element points outside");
    if (absl::Status s = Run(tx, child, depth + 1, stats, nested); !s.ok()) return s;
  }
  return absl::OkStatus();
}
};

}  // namespace internal

std::vector<std::string> Tx::Check() {
  return internal::Checker(this, meta_, page_size_).Run();
}

absl::StatusOr<BucketStats> Bucket::Stats() {
  BucketStats stats;
  if (header_.root == 0) return stats;  // created in this transaction
  absl::Status s = internal::TreeWalk::Run(tx_, header_.root, 0, &stats, nullptr);
  if (!s.ok()) return s;
  return stats;
}

absl::StatusOr<DBStats> DB::Stats() {
  DBStats out;
  absl::Status s = View([&](Tx& tx) -> absl::Status {
    out.page_size = page_size_;
    out.txid = tx.meta_.txid;
    out.high_water_pages = tx.meta_.high_water;
    std::function<absl::Status(const std::string&, pgid_t)> walk =
        [&](const std::string& name, pgid_t root) -> absl::Status {
      BucketStats bs;
      absl::Status s = internal::TreeWalk::Run(&tx, root, 0, &bs, [&](std::string_view child, pgid_t r) {
        return walk(name.empty() ? std::string(child) : name + "/" + std::string(child), r);
      });
      if (!s.ok()) return s;
      out.branch_pages += bs.branch_pages;
      out.leaf_pages += bs.leaf_pages;
      out.overflow_pages += bs.overflow_pages;
      out.max_depth = std::max(out.max_depth, bs.depth);
      if (!name.empty()) out.buckets[name] = bs;
      return absl::OkStatus();
    };
    if (absl::Status s = walk("", tx.meta_.root.root); !s.ok()) return s;
    uint32_t fl_pages;
    absl::StatusOr<const char*> fl = tx.Span(tx.meta_.freelist, PageKind::kFreelist, &fl_pages);
    if (!fl.ok()) return fl.status();
    out.freelist_pages = fl_pages;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  out.file_bytes = FileSize();
  std::lock_guard<std::mutex> l(mu_);
  out.free_pages = free_pages_;
  out.pending_pages = pending_pages_;
  uint64_t unused = out.free_pages + out.pending_pages;
  out.bytes_in_use = (out.high_water_pages - std::min(unused, out.high_water_pages)) * page_size_;
  out.open_read_txs = 0;
  for (const auto& [txid, n] : readers_) out.open_read_txs += uint64_t(n);
  out.counters = counters_;
  return out;
}

}  // namespace revkv::btree
