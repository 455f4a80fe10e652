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

  std::vector<CheckProblem> Run() {
    seen_[0] = seen_[1] = 1;
    CheckFreelist();
    CheckTree(meta_.root.root, "", std::nullopt, std::nullopt, 0, true);
    ReportUnaccounted();
    return std::move(problems_);
  }

 private:
  // The keys of one bucket a page's damage may affect: [lo, hi).
  struct Scope {
    std::string bucket;  // "" for the catalog
    std::optional<std::string_view> lo, hi;
  };

  void Problem(CheckProblem::Kind kind, int64_t page, const Scope* scope, std::string message) {
    CheckProblem p;
    p.kind = kind;
    p.page = page;
    if (scope != nullptr) {
      p.bucket = scope->bucket;
      if (scope->lo) p.first_key = std::string(*scope->lo);
      if (scope->hi) p.end_key = std::string(*scope->hi);
      p.keyed = true;
    }
    p.message = std::move(message);
    problems_.push_back(std::move(p));
  }
  void Structure(pgid_t id, const Scope& scope, std::string_view what) {
    Problem(CheckProblem::kStructure, int64_t(id), &scope,
            std::string(CorruptPage(id, what).message()));
  }

  // A verified span, or nullptr after recording why not.
  const char* Load(pgid_t id, PageKind kind, uint32_t* pages, const Scope* scope) {
    // Verified again even if this process verified it before: check is
    // the one reader that looks for damage done behind our back.
    absl::StatusOr<const char*> p = tx_->Span(id, kind, pages, /*reverify=*/true);
    if (!p.ok()) {
      Problem(CheckProblem::kDamaged, int64_t(id), scope, std::string(p.status().message()));
      return nullptr;
    }
    return *p;
  }

  bool Mark(pgid_t id, uint64_t pages, std::string_view what) {
    for (pgid_t p = id; p < id + pages; ++p) {
      if (p >= seen_.size()) {
        Problem(CheckProblem::kStructure, int64_t(id), nullptr,
                absl::StrFormat("page %d (%s) is beyond the high-water mark %d", p, what,
                                seen_.size()));
        return false;
      }
      if (seen_[p] != 0) {
        Problem(CheckProblem::kStructure, int64_t(p), nullptr,
                absl::StrFormat("page %d (%s) is %s", p, what,
                                seen_[p] == 2 ? "both free and in use" : "referenced twice"));
        return false;
      }
      seen_[p] = 1;
    }
    return true;
  }

  void CheckFreelist() {
    uint32_t pages;
    const char* p = Load(meta_.freelist, PageKind::kFreelist, &pages, nullptr);
    if (p == nullptr) return;
    Mark(meta_.freelist, pages, "freelist");
    std::vector<FreeExtent> extents;
    if (!DecodeFreeExtents(std::string_view(p + sizeof(PageHeader),
                                            uint64_t{pages} * ps_ - sizeof(PageHeader)),
                           Header(p)->count, &extents)) {
      Problem(CheckProblem::kStructure, int64_t(meta_.freelist), nullptr,
              std::string(CorruptPage(meta_.freelist, "malformed extents").message()));
      return;
    }
    for (const FreeExtent& e : extents) {
      for (pgid_t q = e.start; q < e.start + e.count; ++q) {
        if (q < 2 || q >= seen_.size()) {
          Problem(CheckProblem::kStructure, int64_t(meta_.freelist), nullptr,
                  absl::StrFormat("free page %d is outside the file", q));
          break;
        }
        if (seen_[q] != 0) {
          Problem(CheckProblem::kStructure, int64_t(q), nullptr,
                  absl::StrFormat("page %d is listed free twice", q));
        }
        seen_[q] = 2;
      }
    }
  }

  void CheckTree(pgid_t id, const std::string& bucket, std::optional<std::string_view> lo,
                 std::optional<std::string_view> hi, int depth, bool is_root) {
    const Scope scope{bucket, lo, hi};
    if (depth > kMaxDepth) {
      Structure(id, scope, absl::StrFormat("tree deeper than %d levels", kMaxDepth));
      return;
    }
    uint32_t pages;
    const char* p = Load(id, PageKind::kBranch, &pages, &scope);
    if (p == nullptr) return;
    if (!Mark(id, pages, "bucket " + (bucket.empty() ? std::string("<catalog>") : bucket))) {
      return;
    }
    NodeView v(p, size_t{pages} * ps_);
    if (!v.ElementsFit()) return Structure(id, scope, "element count exceeds the page");
    if (!v.is_leaf() && v.count() == 0) Structure(id, scope, "empty branch");
    if (v.is_leaf() && v.count() == 0 && !is_root) Structure(id, scope, "empty non-root leaf");
    std::string_view prev;
    for (uint32_t i = 0; i < v.count(); ++i) {
      uint32_t flags = 0;
      std::string_view key, value;
      pgid_t child = 0;
      bool ok = v.is_leaf() ? v.LeafAt(i, &flags, &key, &value) : v.BranchAt(i, &key, &child);
      if (!ok) return Structure(id, scope, absl::StrFormat("element %d points outside", i));
      if (i > 0 && key <= prev) {
        Structure(id, scope, absl::StrFormat("keys out of order at element %d", i));
      }
      if ((lo && key < *lo) || (hi && key >= *hi)) {
        Structure(id, scope,
                  absl::StrFormat("key at element %d is outside the bounds its parent gives", i));
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
          Structure(id, scope, "bucket header of the wrong size");
          continue;
        }
        std::memcpy(&h, value.data(), sizeof h);
        std::string name = bucket.empty() ? std::string(key) : bucket + "/" + std::string(key);
        CheckTree(h.root, name, std::nullopt, std::nullopt, depth + 1, true);
      } else if (flags & kBigValueFlag) {
        const std::string next(std::string(key) + '\0');  // the key alone: [key, key+"\0")
        const Scope one{bucket, key, next};
        BigValueRef ref;
        if (value.size() != sizeof ref) {
          Structure(id, one, "large value reference of the wrong size");
          continue;
        }
        std::memcpy(&ref, value.data(), sizeof ref);
        uint32_t vpages;
        const char* vp = Load(ref.pgid, PageKind::kOverflow, &vpages, &one);
        if (vp == nullptr) continue;
        Mark(ref.pgid, vpages, "large value");
        if (Header(vp)->count != ref.size) Structure(ref.pgid, one, "large value size does not match");
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
      Problem(CheckProblem::kUnaccounted, int64_t(start), nullptr,
              p - start == 1
                  ? absl::StrFormat("page %d is neither reachable nor free", start)
                  : absl::StrFormat("pages %d-%d are neither reachable nor free", start, p - 1));
    }
  }

  Tx* tx_;
  MetaBody meta_;
  uint32_t ps_;
  std::vector<uint8_t> seen_;  // 0 unseen, 1 in use, 2 free
  std::vector<CheckProblem> problems_;
};

struct TreeWalk {
// Adds the pages and keys of the tree at `id` to *stats; nested buckets are
// reported through `nested`.
// With `load_values`, large values' spans are loaded (and so verified) too.
static absl::Status Run(Tx* tx, pgid_t id, int depth, BucketStats* stats,
                      const std::function<absl::Status(std::string_view, pgid_t)>& nested,
                      bool load_values = false) {
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
          if (load_values) {
            uint32_t pages;
            absl::StatusOr<const char*> span = tx->Span(ref.pgid, PageKind::kOverflow, &pages);
            if (!span.ok()) return span.status();
          }
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
    if (absl::Status s = Run(tx, child, depth + 1, stats, nested, load_values); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}
};

}  // namespace internal

absl::Status Tx::VerifyReachable() {
  uint32_t pages;
  if (absl::StatusOr<const char*> fl = Span(meta_.freelist, PageKind::kFreelist, &pages);
      !fl.ok()) {
    return fl.status();
  }
  std::function<absl::Status(pgid_t)> walk = [&](pgid_t root) -> absl::Status {
    BucketStats unused;
    return internal::TreeWalk::Run(this, root, 0, &unused,
                                   [&](std::string_view, pgid_t r) { return walk(r); },
                                   /*load_values=*/true);
  };
  return walk(meta_.root.root);
}

std::vector<CheckProblem> Tx::CheckProblems() {
  return internal::Checker(this, meta_, page_size_).Run();
}

std::vector<std::string> Tx::Check() {
  std::vector<std::string> out;
  for (CheckProblem& p : CheckProblems()) out.push_back(std::move(p.message));
  return out;
}

const char* CheckProblem::KindName(Kind kind) {
  switch (kind) {
    case kDamaged: return "damaged";
    case kStructure: return "structure";
    case kUnaccounted: return "unaccounted";
    case kMeta: return "meta";
    case kNewestCommit: return "newest_commit";
  }
  return "unknown";
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
  out.counters.spans_verified = spans_verified_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace revkv::btree
