#include "btree/db.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace revkv::btree {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

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
  OpenFileOptions fo;
  fo.read_only = options.read_only;
  fo.create = options.create_if_missing && !options.read_only;
  absl::StatusOr<std::unique_ptr<File>> file = db->env_->OpenFile(path, fo);
  if (!file.ok()) return file.status();
  db->file_ = std::move(*file);
  if (absl::Status s = db->file_->Lock(!options.read_only); !s.ok()) return s;
  absl::StatusOr<uint64_t> size = db->file_->Size();
  if (!size.ok()) return size.status();
  db->file_size_ = *size;
  if (db->file_size_ == 0) {
    if (options.read_only) {
      return absl::InvalidArgumentError(absl::StrFormat("btree: %s is empty", path));
    }
    if (absl::Status s = db->Init(); !s.ok()) return s;
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

// Writes a new, empty database: two metas, an empty catalog leaf, an empty
// freelist.
absl::Status DB::Init() {
  const uint32_t ps = options_.page_size;
  if (!IsValidPageSize(ps)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "btree: page size %d is not a power of two in [4096, 65536]", ps));
  }
  std::string buf(4 * size_t{ps}, '\0');
  for (pgid_t id = 0; id < 2; ++id) {
    char* p = buf.data() + id * ps;
    PageHeader* h = Header(p);
    h->id = id;
    h->kind = uint16_t(PageKind::kMeta);
    MetaBody m{kMagic, kFormatVersion, ps, 0, BucketHeader{2, 0}, 3, 4, id};
    std::memcpy(p + sizeof(PageHeader), &m, sizeof m);
    SealMeta(p);
  }
  PageHeader* leaf = Header(buf.data() + 2 * ps);
  leaf->id = 2;
  leaf->kind = uint16_t(PageKind::kLeaf);
  SealPage(buf.data() + 2 * ps, ps);
  PageHeader* fl = Header(buf.data() + 3 * ps);
  fl->id = 3;
  fl->kind = uint16_t(PageKind::kFreelist);
  SealPage(buf.data() + 3 * ps, ps);
  if (absl::Status s = file_->WriteAt(0, buf); !s.ok()) return s;
  if (absl::Status s = file_->Sync(); !s.ok()) return s;
  if (absl::Status s = env_->SyncDir(DirOf(path_)); !s.ok()) return s;
  file_size_ = buf.size();
  return absl::OkStatus();
}

// Picks the newest meta page whose checksum and fields verify and whose
// commit list, if any, names pages that hold what that commit wrote.
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
  if (ok0 && ok1 && m0.page_size != m1.page_size) ok1 = false;
  if (!ok0 && !ok1) {
    if (absl::IsInvalidArgument(s0) && absl::IsInvalidArgument(s1)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("btree: %s is not a revkv btree file", path_));
    }
    return absl::IsInvalidArgument(s0) ? s1 : s0;
  }
  // A commit whose meta is durable but not all of its pages (it was never
  // acknowledged: one fdatasync covers both) yields to the commit before it.
  const bool newest0 = ok0 && (!ok1 || m0.txid > m1.txid);
  absl::Status torn = VerifyCommitList(newest0 ? page0 : page1, newest0 ? m0 : m1);
  if (!torn.ok()) {
    if (!(newest0 ? ok1 : ok0)) return torn;
    torn_commit_ = std::string(torn.message());
  }
  meta_ = (newest0 == torn.ok()) ? m0 : m1;
  page_size_ = meta_.page_size;
  return absl::OkStatus();
}

absl::Status DB::VerifyCommitList(const char* page, const MetaBody& meta) {
  for (const CommitListEntry& e : GetCommitList(page)) {
    auto incomplete = [&](std::string_view why) {
      return absl::DataLossError(absl::StrFormat(
          "btree: the newest commit (txid %d) is incomplete: page %d %s", meta.txid, e.id,
          why));
    };
    if (e.id < 2 || e.id >= meta.high_water) return incomplete("is outside the file");
    PageHeader h;
    const uint64_t offset = e.id * uint64_t{meta.page_size};
    if (absl::Status s = file_->ReadAt(offset, sizeof h, reinterpret_cast<char*>(&h)); !s.ok()) {
      return s;
    }
    if (h.checksum != e.checksum || h.id != e.id ||
        e.id + 1 + uint64_t{h.overflow} > meta.high_water) {
      return incomplete("does not hold what it wrote");
    }
    std::string span((1 + uint64_t{h.overflow}) * meta.page_size, '\0');
    if (absl::Status s = file_->ReadAt(offset, span.size(), span.data()); !s.ok()) return s;
    if (ComputeChecksum(span.data(), span.size()) != e.checksum) {
      return incomplete("was not completely written");
    }
  }
  return absl::OkStatus();
}

absl::Status DB::LoadFreelist() {
  const uint64_t offset = meta_.freelist * uint64_t{page_size_};
  const char* p = mapping_->data() + offset;
  const PageHeader* h = Header(p);
  auto corrupt = [&](std::string_view what) { return CorruptPage(meta_.freelist, what); };
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

uint64_t DB::BytesInUse() {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t unused = std::min(free_pages_ + pending_pages_, meta_.high_water);
  return (meta_.high_water - unused) * page_size_;
}

txid_t DB::LastTxid() {
  std::lock_guard<std::mutex> l(mu_);
  return meta_.txid;
}

}  // namespace revkv::btree
