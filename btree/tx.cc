#include "btree/tx.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "btree/node.h"

namespace revkv::btree {

Tx::Tx(DB* db, bool writable)
    : db_(db),
      writable_(writable),
      page_size_(db->page_size_) {}

Tx::~Tx() { Rollback(); }

void Tx::End() {
  if (!open_) return;
  open_ = false;
  root_.reset();
  dirty_.clear();
  if (writable_) {
    arena_.Reset();
    db_->ReleaseWriter();
  } else {
    db_->UnregisterReader(meta_.txid);
  }
}

void Tx::Rollback() {
  if (!open_) return;
  if (writable_) {
    for (const FreeExtent& e : allocated_) {
      if (e.start < start_high_water_) db_->freelist_.AddFree(e.start, e.count);
    }
    db_->freelist_.DropPending(meta_.txid);
    std::lock_guard<std::mutex> l(db_->mu_);
    db_->counters_.write_tx_rolled_back++;
  }
  End();
}

absl::Status Tx::Damaged(pgid_t id, std::string_view what) {
  absl::Status s = DamagedPageError(db_->path_, id, what);
  // A write transaction that met damage commits nothing, even if its caller
  // drops the error.
  if (writable_ && failed_.ok()) failed_ = s;
  return s;
}

absl::StatusOr<const char*> Tx::Span(pgid_t id, PageKind kind, uint32_t* pages, bool reverify) {
  if (id < 2 || id >= meta_.high_water) {
    return Damaged(id, absl::StrFormat("a reference points outside the file (high-water mark %d)",
                                       meta_.high_water));
  }
  const uint64_t offset = id * uint64_t{page_size_};
  if (offset + page_size_ > mapping_->size()) {
    if (!writable_) return absl::InternalError("btree: snapshot is not mapped");
    if (absl::Status s = Grow(offset + page_size_); !s.ok()) return s;
  }
  const char* p = mapping_->data() + offset;
  PageHeader h;
  std::memcpy(&h, p, sizeof h);
  if (h.id != id) return Damaged(id, absl::StrFormat("its header names page %d", h.id));
  if (h.kind != uint16_t(kind) &&
      !(kind == PageKind::kBranch && h.kind == uint16_t(PageKind::kLeaf))) {
    return Damaged(id, absl::StrFormat("kind %d where %d was expected", h.kind, int(kind)));
  }
  if (id + 1 + uint64_t{h.overflow} > meta_.high_water) {
    return Damaged(id, "its span runs past the high-water mark");
  }
  *pages = h.overflow + 1;
  const uint64_t bytes = uint64_t{*pages} * page_size_;
  if (offset + bytes > mapping_->size()) {
    if (!writable_) return absl::InternalError("btree: snapshot is not mapped");
    if (absl::Status s = Grow(offset + bytes); !s.ok()) return s;
    p = mapping_->data() + offset;
  }
  // Verified once per allocation of the span (see verified_pages.h).
  if (reverify || !db_->verified_.Contains(id)) {
    if (h.kind == uint16_t(PageKind::kOverflow) && sizeof(PageHeader) + uint64_t{h.count} > bytes) {
      return Damaged(id, "its value is longer than its span");
    }
    const uint64_t sum = ComputeChecksum(p, bytes);
    if (sum != h.checksum) {
      return Damaged(id, absl::StrFormat("checksum mismatch: the header says %016x, the "
                                         "content hashes to %016x", h.checksum, sum));
    }
    db_->verified_.Add(id);
    db_->spans_verified_.fetch_add(1, std::memory_order_relaxed);
  }
  return p;
}

absl::StatusOr<NodeView> Tx::NodePage(pgid_t id) {
  uint32_t pages;
  absl::StatusOr<const char*> p = Span(id, PageKind::kBranch, &pages);
  if (!p.ok()) return p.status();
  NodeView v(*p, size_t{pages} * page_size_);
  if (!v.ElementsFit()) return Damaged(id, "its element count exceeds the page");
  return v;
}

void Tx::Prefetch(pgid_t id, size_t bytes) const {
  bytes = std::min<size_t>(bytes, page_size_);
  const uint64_t offset = id * uint64_t{page_size_};
  if (id >= meta_.high_water || mapping_ == nullptr || offset + bytes > mapping_->size()) return;
  const char* p = mapping_->data() + offset;
  for (size_t i = 0; i < bytes; i += 64) __builtin_prefetch(p + i);
}

void Tx::PrefetchProbes(pgid_t id, int levels) const {
  const uint64_t offset = id * uint64_t{page_size_};
  if (id >= meta_.high_water || mapping_ == nullptr || offset + page_size_ > mapping_->size()) {
    return;
  }
  const NodeView page(mapping_->data() + offset, page_size_);
  const uint16_t kind = page.header()->kind;
  if (kind != uint16_t(PageKind::kLeaf) && kind != uint16_t(PageKind::kBranch)) return;
  page.PrefetchProbes(levels);
}

absl::StatusOr<pgid_t> Tx::Allocate(uint64_t pages) {
  pgid_t id = db_->freelist_.Allocate(pages);
  if (id == 0) {
    id = meta_.high_water;
    meta_.high_water += pages;
  }
  allocated_.push_back({id, pages});
  // The pages are about to hold a new span: a reader must verify it afresh.
  db_->verified_.Remove(id, pages);
  return id;
}

void Tx::Free(pgid_t id, uint64_t pages) { db_->freelist_.Free(meta_.txid, id, pages); }

char* Tx::NewDirtySpan(pgid_t id, uint64_t pages) {
  dirty_.push_back({id, pages, arena_.Allocate(pages * page_size_)});
  return dirty_.back().buf;
}

absl::Status Tx::Grow(uint64_t bytes) {
  if (bytes > db_->file_size_) {
    uint64_t size = db_->file_size_;
    uint64_t step = std::clamp<uint64_t>(size / 8, 1 << 20, 64 << 20);
    uint64_t target = std::max(bytes, size + step);
    target = (target + page_size_ - 1) / page_size_ * page_size_;
    if (absl::Status s = db_->file_->Truncate(target); !s.ok()) return s;
    db_->file_size_ = target;
  }
  absl::StatusOr<std::shared_ptr<const Mapping>> m = db_->EnsureMapped(bytes);
  if (!m.ok()) return m.status();
  if (*m != mapping_) {
    old_mappings_.push_back(std::move(mapping_));
    mapping_ = *m;
  }
  return absl::OkStatus();
}

absl::Status Tx::WriteOverflow(pgid_t id, uint64_t pages, std::string_view value) {
  PageHeader h{};
  h.id = id;
  h.kind = uint16_t(PageKind::kOverflow);
  h.count = uint32_t(value.size());
  h.overflow = uint32_t(pages - 1);
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, reinterpret_cast<const char*>(&h) + 8, sizeof h - 8);
  XXH3_64bits_update(state, value.data(), value.size());
  h.checksum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  wrote_overflow_ = true;
  uint64_t offset = id * uint64_t{page_size_};
  if (absl::Status s = Grow(offset + pages * page_size_); !s.ok()) return s;
  return db_->file_->WriteAtV(
      offset, {std::string_view(reinterpret_cast<const char*>(&h), sizeof h), value});
}

absl::Status Tx::WriteFreelist() {
  uint32_t old_pages;
  absl::StatusOr<const char*> old = Span(meta_.freelist, PageKind::kFreelist, &old_pages);
  if (!old.ok()) return old.status();
  Free(meta_.freelist, old_pages);

  // Allocating the list's own pages changes the list (and its encoded size
  // by a few bytes), so size the span from the last commit's encoding plus
  // slack, encode once, and retry in the rare case it is short.
  std::string& encoded = db_->freelist_encoding_;  // keeps its capacity
  size_t estimate = encoded.size();
  size_t slack = 64;
  absl::StatusOr<pgid_t> id;
  uint64_t pages;
  uint32_t count;
  while (true) {
    pages = PagesFor(sizeof(PageHeader) + estimate + slack, page_size_);
    id = Allocate(pages);
    if (!id.ok()) return id.status();
    count = db_->freelist_.EncodePersisted(&encoded);
    if (sizeof(PageHeader) + encoded.size() <= pages * page_size_) break;
    Free(*id, pages);
    estimate = encoded.size();
    slack *= 2;
  }
  char* span = NewDirtySpan(*id, pages);
  std::memset(span, 0, pages * page_size_);
  PageHeader* h = Header(span);
  h->id = *id;
  h->kind = uint16_t(PageKind::kFreelist);
  h->count = count;
  h->overflow = uint32_t(pages - 1);
  std::memcpy(span + sizeof(PageHeader), encoded.data(), encoded.size());
  meta_.freelist = *id;
  return absl::OkStatus();
}

absl::Status Tx::FlushDirty() {
  if (absl::Status s = Grow(meta_.high_water * uint64_t{page_size_}); !s.ok()) return s;
  std::sort(dirty_.begin(), dirty_.end(),
            [](const DirtySpan& a, const DirtySpan& b) { return a.id < b.id; });
  uint64_t bytes = 0;
  std::vector<std::string_view> run;
  pgid_t run_start = 0, run_end = 0;
  auto flush = [&]() -> absl::Status {
    if (run.empty()) return absl::OkStatus();
    absl::Status s = db_->file_->WriteAtV(run_start * uint64_t{page_size_}, run);
    run.clear();
    return s;
  };
  for (DirtySpan& d : dirty_) {
    size_t n = d.pages * page_size_;
    SealPage(d.buf, n);
    // One past the limit is enough to know the list does not fit.
    if (written_.size() <= kMaxCommitList) written_.push_back({d.id, Header(d.buf)->checksum});
    if (run.empty() || d.id != run_end) {
      if (absl::Status s = flush(); !s.ok()) return s;
      run_start = d.id;
    }
    run.emplace_back(d.buf, n);
    run_end = d.id + d.pages;
    bytes += n;
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  const bool sync = !db_->options_.no_sync;
  if (sync) {
    if (absl::Status s = db_->file_->Sync(); !s.ok()) return s;
  }
  std::lock_guard<std::mutex> l(db_->mu_);
  db_->counters_.pages_written += bytes / page_size_;
  db_->counters_.bytes_written += bytes;
  if (sync) db_->counters_.syncs++;
  return absl::OkStatus();
}

bool Tx::ListsCommit() const {
  // Open would have to read a large value back to verify it: such commits
  // list nothing.
  return !wrote_overflow_ && written_.size() <= kMaxCommitList;
}

absl::Status Tx::WriteMeta() {
  std::string page(page_size_, '\0');
  PageHeader* h = Header(page.data());
  h->id = meta_.txid % 2;
  h->kind = uint16_t(PageKind::kMeta);
  meta_.version = kFormatVersion;  // a version 1 file is upgraded here
  meta_.flags = db_->options_.no_sync ? (meta_.flags | kMetaUnsynced) : (meta_.flags & ~kMetaUnsynced);
  std::memcpy(page.data() + sizeof(PageHeader), &meta_, sizeof meta_);
  if (ListsCommit()) SetCommitList(page.data(), written_);
  SealMeta(page.data());
  if (absl::Status s = db_->file_->WriteAt(h->id * page_size_, page); !s.ok()) return s;
  if (db_->options_.no_sync) return absl::OkStatus();
  if (absl::Status s = db_->file_->Sync(); !s.ok()) return s;
  std::lock_guard<std::mutex> l(db_->mu_);
  db_->counters_.syncs++;
  return absl::OkStatus();
}

absl::Status Tx::CommitInternal(bool* wrote) {
  if (absl::Status s = root_->Rebalance(); !s.ok()) return s;
  if (absl::Status s = root_->Spill(); !s.ok()) return s;
  meta_.root = root_->header_;
  if (absl::Status s = WriteFreelist(); !s.ok()) return s;
  *wrote = true;
  if (absl::Status s = FlushDirty(); !s.ok()) return s;
  return WriteMeta();
}

absl::Status Tx::Commit() {
  if (!open_) return absl::FailedPreconditionError("btree: transaction is closed");
  if (!writable_) return absl::FailedPreconditionError("btree: transaction is read-only");
  if (!failed_.ok()) {
    absl::Status s = failed_;
    Rollback();
    return s;
  }
  bool wrote = false;
  absl::Status s = CommitInternal(&wrote);
  if (!s.ok()) {
    // Once bytes may have reached the file, its cached state is unknown
    // (a failed fsync may drop dirty pages): stop accepting writes.
    if (wrote) db_->Poison(s);
    Rollback();
    return s;
  }
  db_->Publish(meta_);
  db_->PublishFreeCounts();
  End();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Tx::ListBuckets() {
  std::vector<std::string> names;
  Cursor c(root_.get());
  for (c.First(); c.Valid(); c.Next()) {
    if (c.is_bucket()) names.emplace_back(c.key());
  }
  if (!c.status().ok()) return c.status();
  return names;
}

}  // namespace revkv::btree
