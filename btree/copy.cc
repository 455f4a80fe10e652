// Copies of a snapshot: WriteTo (byte copy of the file) and CompactTo (live
// data rewritten densely into a new file).
#include <cstring>
#include <ostream>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "btree/tx.h"

namespace revkv::btree {

absl::Status Tx::WriteTo(std::ostream& out) {
  if (!open_) return absl::FailedPreconditionError("btree: transaction is closed");
  // The copy is of raw bytes: verify them first, so damage is not passed on.
  if (absl::Status s = VerifyReachable(); !s.ok()) return s;
  // Both meta slots describe this snapshot.
  std::string page(page_size_, '\0');
  for (pgid_t id = 0; id < 2; ++id) {
    std::memset(page.data(), 0, page.size());
    PageHeader* h = Header(page.data());
    h->id = id;
    h->kind = uint16_t(PageKind::kMeta);
    MetaBody m = meta_;
    m.flags &= ~kMetaUnsynced;  // the copy's pages are all there
    std::memcpy(page.data() + sizeof(PageHeader), &m, sizeof m);
    SealMeta(page.data());
    out.write(page.data(), std::streamsize(page.size()));
  }
  // The rest straight from the mapping: the pages this snapshot uses cannot
  // change while it is open; free pages may, but nothing reads them.
  const uint64_t end = meta_.high_water * uint64_t{page_size_};
  const uint64_t chunk = 1 << 20;
  for (uint64_t off = 2 * uint64_t{page_size_}; off < end; off += chunk) {
    uint64_t n = std::min(chunk, end - off);
    out.write(mapping_->data() + off, std::streamsize(n));
  }
  out.flush();
  if (!out) return absl::DataLossError("btree: writing the copy failed");
  return absl::OkStatus();
}

namespace {

// Copies a snapshot bucket by bucket into a fresh DB, committing every
// kCommitBytes so memory stays bounded.
class Compactor {
 public:
  Compactor(Tx* src, DB* dst) : src_(src), dst_(dst) {}

  absl::Status Run() {
    if (absl::Status s = Begin(); !s.ok()) return s;
    if (absl::Status s = CopyBucket(&src_->root(), {}); !s.ok()) return s;
    return tx_->Commit();
  }

 private:
  static constexpr uint64_t kCommitBytes = 64 << 20;

  absl::Status Begin() {
    absl::StatusOr<std::unique_ptr<Tx>> tx = dst_->Begin(true);
    if (!tx.ok()) return tx.status();
    tx_ = std::move(*tx);
    pending_ = 0;
    return absl::OkStatus();
  }

  // The destination bucket at `path` in the current transaction.
  absl::StatusOr<Bucket*> Target(const std::vector<std::string>& path) {
    Bucket* b = &tx_->root();
    for (const std::string& name : path) {
      absl::StatusOr<Bucket*> next = b->GetBucket(name);
      if (!next.ok()) return next.status();
      b = *next;
    }
    b->SetFillPercent(1.0);
    return b;
  }

  absl::Status CopyBucket(Bucket* src, const std::vector<std::string>& path) {
    absl::StatusOr<Bucket*> dst = Target(path);
    if (!dst.ok()) return dst.status();
    if (absl::Status s = (*dst)->SetSequence(src->Sequence()); !s.ok() && !path.empty()) return s;
    Cursor c = src->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
      if (pending_ >= kCommitBytes) {
        if (absl::Status s = tx_->Commit(); !s.ok()) return s;
        if (absl::Status s = Begin(); !s.ok()) return s;
        dst = Target(path);
        if (!dst.ok()) return dst.status();
      }
      if (c.is_bucket()) {
        absl::StatusOr<Bucket*> created = (*dst)->CreateBucket(c.key());
        if (!created.ok()) return created.status();
        absl::StatusOr<Bucket*> child = src->GetBucket(c.key());
        if (!child.ok()) return child.status();
        std::vector<std::string> sub = path;
        sub.emplace_back(c.key());
        if (absl::Status s = CopyBucket(*child, sub); !s.ok()) return s;
        dst = Target(path);  // the transaction may have changed
        if (!dst.ok()) return dst.status();
        continue;
      }
      if (absl::Status s = (*dst)->Put(c.key(), c.value()); !s.ok()) return s;
      pending_ += c.key().size() + c.value().size() + 16;
    }
    return c.status();
  }

  Tx* src_;
  DB* dst_;
  std::unique_ptr<Tx> tx_;
  uint64_t pending_ = 0;
};

}  // namespace

absl::Status Tx::CompactTo(const std::string& path, const Options& options) {
  if (!open_) return absl::FailedPreconditionError("btree: transaction is closed");
  Env* env = options.env != nullptr ? options.env : db_->env_;
  if (env->FileExists(path)) {
    return absl::AlreadyExistsError(absl::StrFormat("btree: %s already exists", path));
  }
  Options dst_options = options;
  dst_options.page_size = page_size_;
  dst_options.create_if_missing = true;
  dst_options.read_only = false;
  dst_options.no_sync = true;  // one sync at the end
  absl::Status s;
  {
    absl::StatusOr<std::unique_ptr<DB>> dst = DB::Open(path, dst_options);
    if (!dst.ok()) {
      s = dst.status();
    } else {
      s = Compactor(this, dst->get()).Run();
      if (s.ok() && !options.no_sync) s = (*dst)->file_->Sync();
    }
  }
  if (!s.ok()) {
    if (env->FileExists(path)) env->RemoveFile(path).IgnoreError();
    return s;
  }
  return absl::OkStatus();
}

absl::Status DB::CompactTo(const std::string& path, const Options& options) {
  return View([&](Tx& tx) { return tx.CompactTo(path, options); });
}

}  // namespace revkv::btree
