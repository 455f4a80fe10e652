#include "btree/db.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "util/status_payload.h"
#include "absl/strings/str_join.h"

namespace revkv::btree {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

constexpr char kBtreeErrorUrl[] = "revkv.btree.error";
constexpr char kNewestCommitDamaged[] = "newest_commit_damaged";

}  // namespace

bool IsNewestCommitDamaged(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kBtreeErrorUrl, kNewestCommitDamaged);
}

DB::DB(std::string path, const Options& options)
    : path_(std::move(path)),
      options_(options),
      env_(options.env != nullptr ? options.env : Env::Default()) {}

DB::~DB() {
  mapping_.reset();
  file_.reset();
}

absl::StatusOr<std::unique_ptr<DB>> DB::Open(const std::string& path, const Options& options) {
  auto db = std::unique_ptr<DB>(new DB(path, options));
  if (options.create_if_missing && !options.read_only && !db->env_->FileExists(path)) {
    // Another process may create it at the same moment: either file is whole.
    if (absl::Status s = db->Create(); !s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  OpenFileOptions fo;
  fo.read_only = options.read_only;
  absl::StatusOr<std::unique_ptr<File>> file = db->env_->OpenFile(path, fo);
  if (!file.ok()) return file.status();
  db->file_ = std::move(*file);
  if (absl::Status s = db->file_->Lock(!options.read_only); !s.ok()) return s;
  absl::StatusOr<uint64_t> size = db->file_->Size();
  if (!size.ok()) return size.status();
  db->file_size_ = *size;
  if (db->file_size_ == 0) {
    // Create never leaves an empty file, so this one is not a store.
    return absl::DataLossError(
        absl::StrFormat("btree: %s: empty data file: not a revkv store", path));
  }
  if (absl::Status s = db->LoadMeta(); !s.ok()) return s;
  uint64_t reserve = options.initial_mmap_size != 0 ? options.initial_mmap_size : (256 << 20);
  reserve = std::max<uint64_t>(reserve, db->file_size_ * 2);
  absl::StatusOr<std::shared_ptr<const Mapping>> m = db->file_->Map(reserve);
  if (!m.ok()) return m.status();
  db->mapping_ = *m;
  if (absl::Status s = db->LoadFreelist(); !s.ok()) return s;
  db->PublishFreeCounts();
  return db;
}

// Writes a new, empty database (two metas, an empty catalog leaf, an empty
// freelist) under a temporary name, makes it durable and links it into
// place: a crash leaves no file or a whole one, never an empty one.
absl::Status DB::Create() {
  const uint32_t ps = options_.page_size;
  if (!IsValidPageSize(ps)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "btree: page size %d is not a power of two in [4096, 65536]", ps));
  }
  std::string buf(4 * size_t{ps}, '\0');
  for (pgid_t id = 0; id < 2; ++id) {
    char* p = buf.data() + id * ps;
    PageHeader h{};
    h.id = id;
    h.kind = uint16_t(PageKind::kMeta);
    std::memcpy(p, &h, sizeof h);
    MetaBody m{kMagic, kFormatVersion, ps, 0, BucketHeader{2, 0}, 3, 4, id};
    std::memcpy(p + sizeof(PageHeader), &m, sizeof m);
    SealMeta(p);
  }
  for (pgid_t id : {pgid_t{2}, pgid_t{3}}) {
    PageHeader h{};
    h.id = id;
    h.kind = uint16_t(id == 2 ? PageKind::kLeaf : PageKind::kFreelist);
    std::memcpy(buf.data() + id * ps, &h, sizeof h);
    SealPage(buf.data() + id * ps, ps);
  }
  const std::string tmp = absl::StrFormat("%s.creating.%d", path_, getpid());
  {
    OpenFileOptions fo;
    fo.create = true;
    absl::StatusOr<std::unique_ptr<File>> f = env_->OpenFile(tmp, fo);
    if (!f.ok()) return f.status();
    absl::Status s = (*f)->Truncate(buf.size());
    if (s.ok()) s = (*f)->WriteAt(0, buf);
    if (s.ok()) s = (*f)->Sync();
    if (!s.ok()) {
      env_->RemoveFile(tmp).IgnoreError();
      return s;
    }
  }
  absl::Status linked = env_->LinkFile(tmp, path_);
  env_->RemoveFile(tmp).IgnoreError();
  if (!linked.ok()) return linked;
  return env_->SyncDir(DirOf(path_));
}

// Reads both meta pages and picks one (see ChooseMeta).
absl::Status DB::LoadMeta() {
  if (file_size_ < kMinPageSize * 2) {
    return absl::DataLossError(absl::StrFormat(
        "btree: %s is %d bytes: too short to be a btree file (truncated?)", path_,
        file_size_));
  }
  char page0[kMetaBytes], page1[kMetaBytes];
  MetaBody m0{}, m1{};
  if (absl::Status s = file_->ReadAt(0, sizeof page0, page0); !s.ok()) return s;
  absl::Status s0 = DecodeMeta(page0, &m0);
  absl::Status s1 = absl::DataLossError("btree: no valid second meta page");
  // The second meta sits one page in; find the page size from the first, or
  // try each possible size when the first is damaged.
  for (uint64_t ps = kMinPageSize; ps <= kMaxPageSize; ps *= 2) {
    if (s0.ok() && ps != m0.page_size) continue;
    if (ps + sizeof page1 > file_size_) break;
    if (absl::Status s = file_->ReadAt(ps, sizeof page1, page1); !s.ok()) return s;
    s1 = DecodeMeta(page1, &m1);
    if (s1.ok() && m1.page_size == ps) break;
    if (s1.ok()) s1 = absl::DataLossError("btree: second meta page has a foreign page size");
  }
  return ChooseMeta(page0, m0, std::move(s0), page1, m1, std::move(s1));
}

// Takes the newest meta whose checksum and fields verify. A damaged meta
// page is what a torn meta write leaves (its commit was not acknowledged),
// so the other is opened and open_note_ says so. A verified meta's pages
// were durable before it, so a page its commit wrote that fails
// verification is damage: open fails unless allow_rollback -- or the
// commit was written without fdatasync (no_sync), which promises no order.
absl::Status DB::ChooseMeta(const char* page0, const MetaBody& m0, absl::Status s0,
                            const char* page1, const MetaBody& m1, absl::Status s1) {
  if (absl::IsFailedPrecondition(s0)) return s0;  // a future format version
  if (absl::IsFailedPrecondition(s1)) return s1;
  auto fits = [&](const MetaBody& m, absl::Status* s) {
    if (!s->ok()) return false;
    if (m.high_water * uint64_t{m.page_size} > file_size_) {
      *s = absl::DataLossError(absl::StrFormat(
          "btree: %s is truncated: it holds %d bytes but its meta needs %d pages of %d bytes",
          path_, file_size_, m.high_water, m.page_size));
      return false;
    }
    return true;
  };
  bool ok0 = fits(m0, &s0), ok1 = fits(m1, &s1);
  if (ok0 && ok1 && m0.page_size != m1.page_size) {
    ok1 = false;
    s1 = absl::DataLossError("btree: the meta pages disagree on the page size");
  }
  if (!ok0 && !ok1) {
    if (absl::IsInvalidArgument(s0) && absl::IsInvalidArgument(s1)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("btree: %s is not a revkv btree file", path_));
    }
    return absl::DataLossError(absl::StrFormat("btree: %s: both meta pages are damaged: %s; %s",
                                               path_, s0.message(), s1.message()));
  }
  const bool newest0 = ok0 && (!ok1 || m0.txid > m1.txid);
  const MetaBody& newest = newest0 ? m0 : m1;
  const MetaBody& older = newest0 ? m1 : m0;
  const bool older_ok = newest0 ? ok1 : ok0;
  if (!older_ok) {
    open_note_ = absl::StrFormat(
        "btree: %s: meta page %d is damaged or torn (%s); opened txid %d from meta page %d",
        path_, newest0 ? 1 : 0, (newest0 ? s1 : s0).message(), newest.txid, newest0 ? 0 : 1);
  }
  absl::Status listed = VerifyCommitList(newest0 ? page0 : page1, newest);
  if (listed.ok()) {
    meta_ = newest;
  } else if (older_ok && ((newest.flags & kMetaUnsynced) || options_.allow_rollback)) {
    open_note_ = absl::StrFormat(
        "btree: %s: rolled back to txid %d: the newest commit (txid %d) is %s: %s", path_,
        older.txid, newest.txid,
        (newest.flags & kMetaUnsynced) ? "incomplete (written without fdatasync)" : "damaged",
        listed.message());
    meta_ = older;
  } else {
    if (older_ok) {
      absl::Status s = absl::DataLossError(absl::StrFormat(
          "%s; opening with allow_rollback (revkv --allow-rollback) opens the commit before "
          "it (txid %d) and loses this one",
          listed.message(), older.txid));
      listed.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
        s.SetPayload(url, absl::Cord(std::string(payload)));  // copying a Cord needs cordz
      });
      listed = util::WithName(std::move(s), kBtreeErrorUrl, kNewestCommitDamaged);
    }
    return listed;
  }
  page_size_ = meta_.page_size;
  return absl::OkStatus();
}

absl::Status DB::VerifyCommitList(const char* page, const MetaBody& meta) {
  for (const CommitListEntry& e : GetCommitList(page)) {
    auto damaged = [&](std::string_view why) {
      return DamagedPageError(
          path_, e.id, absl::StrFormat("the newest commit (txid %d) wrote it, but it %s", meta.txid,
                                       why));
    };
    if (e.id < 2 || e.id >= meta.high_water) return damaged("lies outside the file");
    PageHeader h;
    const uint64_t offset = e.id * uint64_t{meta.page_size};
    if (absl::Status s = file_->ReadAt(offset, sizeof h, reinterpret_cast<char*>(&h)); !s.ok()) {
      return s;
    }
    if (h.checksum != e.checksum || h.id != e.id ||
        e.id + 1 + uint64_t{h.overflow} > meta.high_water) {
      return damaged(absl::StrFormat("does not hold what it wrote (checksum %016x expected, "
                                     "header says %016x)", e.checksum, h.checksum));
    }
    std::string span((1 + uint64_t{h.overflow}) * meta.page_size, '\0');
    if (absl::Status s = file_->ReadAt(offset, span.size(), span.data()); !s.ok()) return s;
    if (const uint64_t sum = ComputeChecksum(span.data(), span.size()); sum != e.checksum) {
      return damaged(absl::StrFormat("fails its checksum (%016x expected, content hashes to "
                                     "%016x)", e.checksum, sum));
    }
  }
  return absl::OkStatus();
}

absl::Status DB::LoadFreelist() {
  const uint64_t offset = meta_.freelist * uint64_t{page_size_};
  const char* p = mapping_->data() + offset;
  const PageHeader* h = Header(p);
  auto corrupt = [&](std::string_view what) {
    return DamagedPageError(path_, meta_.freelist, absl::StrFormat("the freelist: %s", what));
  };
  if (h->id != meta_.freelist || h->kind != uint16_t(PageKind::kFreelist)) {
    return corrupt("not a freelist page");
  }
  if (meta_.freelist + 1 + uint64_t{h->overflow} > meta_.high_water) {
    return corrupt("span runs past the high-water mark");
  }
  const uint64_t bytes = (uint64_t{h->overflow} + 1) * page_size_;
  if (ComputeChecksum(p, bytes) != h->checksum) return corrupt("checksum mismatch");
  std::vector<FreeExtent> extents;
  if (!DecodeFreeExtents(std::string_view(p + sizeof(PageHeader), bytes - sizeof(PageHeader)),
                         h->count, &extents)) {
    return corrupt("malformed extents");
  }
  pgid_t prev_end = 2;
  for (const FreeExtent& e : extents) {
    if (e.start < prev_end || e.count == 0 || e.start + e.count > meta_.high_water ||
        e.start + e.count < e.start) {
      return corrupt("extents out of order or outside the file");
    }
    prev_end = e.start + e.count;
  }
  freelist_.Reset(extents);
  verified_.Add(meta_.freelist);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Mapping>> DB::EnsureMapped(uint64_t bytes) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (mapping_->size() >= bytes) return mapping_;
  }
  uint64_t size = std::max<uint64_t>(bytes, mapping_->size() * 2);
  size = (size + (1 << 20) - 1) >> 20 << 20;
  absl::StatusOr<std::shared_ptr<const Mapping>> m = file_->Map(size);
  if (!m.ok()) return m.status();
  std::lock_guard<std::mutex> l(mu_);
  mapping_ = *m;
  counters_.remaps++;
  return mapping_;
}

void DB::RegisterReader(txid_t* txid, MetaBody* meta, std::shared_ptr<const Mapping>* mapping) {
  std::lock_guard<std::mutex> l(mu_);
  *meta = meta_;
  *mapping = mapping_;
  *txid = meta_.txid;
  readers_[meta_.txid]++;
  counters_.read_tx_started++;
}

void DB::UnregisterReader(txid_t txid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = readers_.find(txid);
  if (it != readers_.end() && --it->second == 0) readers_.erase(it);
}

absl::Status DB::AcquireWriter(MetaBody* meta, std::shared_ptr<const Mapping>* mapping) {
  {
    std::unique_lock<std::mutex> l(writer_mu_);
    writer_cv_.wait(l, [this] { return !writer_active_; });
    writer_active_ = true;
  }
  txid_t oldest;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!poisoned_.ok()) {
      absl::Status s = poisoned_;
      ReleaseWriter();
      return s;
    }
    *meta = meta_;
    *mapping = mapping_;
    oldest = readers_.empty() ? meta_.txid : readers_.begin()->first;
  }
  // Pages freed by commit w were visible only to snapshots older than w.
  freelist_.Release(oldest);
  return absl::OkStatus();
}

void DB::ReleaseWriter() {
  {
    std::lock_guard<std::mutex> l(writer_mu_);
    writer_active_ = false;
  }
  writer_cv_.notify_one();
}

void DB::Publish(const MetaBody& meta) {
  std::lock_guard<std::mutex> l(mu_);
  meta_ = meta;
  counters_.write_tx_committed++;
}

void DB::PublishFreeCounts() {
  uint64_t free = freelist_.free_count(), pending = freelist_.pending_count();
  std::lock_guard<std::mutex> l(mu_);
  free_pages_ = free;
  pending_pages_ = pending;
}

void DB::Poison(const absl::Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  if (poisoned_.ok()) {
    poisoned_ = absl::Status(s.code(), absl::StrFormat(
        "btree: an earlier commit failed, the database accepts no more writes: %s",
        s.message()));
  }
}

absl::Status DB::Poisoned() {
  std::lock_guard<std::mutex> l(mu_);
  return poisoned_;
}

absl::StatusOr<std::unique_ptr<Tx>> DB::Begin(bool writable) {
  auto tx = std::unique_ptr<Tx>(new Tx(this, writable));
  if (writable) {
    if (options_.read_only) {
      return absl::FailedPreconditionError("btree: database is open read-only");
    }
    if (absl::Status s = AcquireWriter(&tx->meta_, &tx->mapping_); !s.ok()) {
      tx->open_ = false;
      return s;
    }
    tx->meta_.txid++;
    tx->start_high_water_ = tx->meta_.high_water;
  } else {
    txid_t txid;
    RegisterReader(&txid, &tx->meta_, &tx->mapping_);
  }
  tx->root_ = std::unique_ptr<Bucket>(new Bucket(tx.get(), tx->meta_.root));
  return tx;
}

absl::Status DB::Update(const std::function<absl::Status(Tx&)>& fn) {
  absl::StatusOr<std::unique_ptr<Tx>> tx = Begin(true);
  if (!tx.ok()) return tx.status();
  if (absl::Status s = fn(**tx); !s.ok()) {
    (*tx)->Rollback();
    return s;
  }
  return (*tx)->Commit();
}

absl::Status DB::View(const std::function<absl::Status(Tx&)>& fn) {
  absl::StatusOr<std::unique_ptr<Tx>> tx = Begin(false);
  if (!tx.ok()) return tx.status();
  absl::Status s = fn(**tx);
  (*tx)->Rollback();
  return s;
}

absl::Status DB::Check(std::vector<std::string>* problems) {
  std::vector<std::string> found;
  absl::Status s = View([&](Tx& tx) {
    found = tx.Check();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (problems != nullptr) *problems = found;
  if (found.empty()) return absl::OkStatus();
  std::vector<std::string> head(found.begin(), found.begin() + std::min<size_t>(found.size(), 5));
  return absl::DataLossError(absl::StrFormat("btree: check found %d problem(s): %s%s",
                                             found.size(), absl::StrJoin(head, "; "),
                                             found.size() > 5 ? "; ..." : ""));
}

int DB::OpenReadTxs() {
  std::lock_guard<std::mutex> l(mu_);
  int n = 0;
  for (const auto& [txid, count] : readers_) n += count;
  return n;
}

uint64_t DB::FileSize() {
  absl::StatusOr<uint64_t> size = file_->Size();
  return size.ok() ? *size : 0;
}

uint64_t DB::HighWaterBytes() {
  std::lock_guard<std::mutex> l(mu_);
  return meta_.high_water * uint64_t{page_size_};
}

SpaceUsage DB::Space() {
  std::lock_guard<std::mutex> l(mu_);
  // A commit publishes its free counts just after its meta: the clamp keeps
  // a read between the two from counting more free pages than pages.
  uint64_t unused = std::min(free_pages_ + pending_pages_, meta_.high_water);
  return {.high_water_bytes = meta_.high_water * uint64_t{page_size_},
          .in_use_bytes = (meta_.high_water - unused) * uint64_t{page_size_}};
}

txid_t DB::LastTxid() {
  std::lock_guard<std::mutex> l(mu_);
  return meta_.txid;
}

}  // namespace revkv::btree
