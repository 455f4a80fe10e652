// ImportBolt and its two front ends: validate each etcd record, write them
// in key order into a new btree file, open it as a store, rename into place.
#include "interop/etcd/import.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "btree/bucket.h"
#include "btree/db.h"
#include "btree/tx.h"
#include "interop/etcd/bolt_error.h"
#include "interop/etcd/etcd_file.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"
#include "util/status_payload.h"

namespace revkv::interop::etcd {
namespace {

// Records per btree transaction: a few transactions for a million keys,
// each holding its dirty pages in memory until it commits.
constexpr int64_t kRecordsPerTxn = 250000;

absl::Status BadRecord(std::string_view bucket, uint64_t page, std::string_view what) {
  return util::WithName(
      absl::DataLossError(absl::StrFormat("etcd %s bucket, page %d: %s", std::string(bucket), page,
                                          std::string(what))),
      kEtcdFileErrorUrl, kBadRecord);
}

// One key-bucket record, checked as etcd writes them.
absl::Status CheckKeyRecord(std::string_view k, std::string_view v, uint64_t page,
                            mvcc::KeyValue* kv) {
  mvcc::Revision rev;
  bool tombstone;
  if (!mvcc::ParseRevisionKey(k, &rev, &tombstone) || rev.main < 1 || rev.sub < 0) {
    return BadRecord("key", page, "a key is not a revision");
  }
  if (absl::Status s = mvcc::DecodeKeyValue(v, kv); !s.ok()) {
    return BadRecord("key", page, absl::StrFormat("record %d_%d does not decode: %s", rev.main,
                                                  rev.sub, s.message()));
  }
  if (kv->key.empty()) {
    return BadRecord("key", page, absl::StrFormat("record %d_%d has no key", rev.main, rev.sub));
  }
  // A tombstone holds only its key (etcd's delete); a live record's
  // revisions are its own.
  if (!tombstone && (kv->mod_revision != rev.main || kv->create_revision < 1 ||
                     kv->create_revision > rev.main || kv->version < 1)) {
    return BadRecord("key", page,
                     absl::StrFormat("record %d_%d says mod %d, create %d, version %d", rev.main,
                                     rev.sub, kv->mod_revision, kv->create_revision, kv->version));
  }
  return absl::OkStatus();
}

// Writes the records of source bucket `name` (absent: nothing) into bucket
// `name` of `db`, checked by `check`, committing every kRecordsPerTxn.
absl::StatusOr<int64_t> CopyBucket(
    const BoltFile& f, btree::DB& db, const char* name,
    const std::function<absl::Status(std::string_view, std::string_view, uint64_t)>& check) {
  absl::StatusOr<std::optional<BucketRef>> src = f.Bucket(f.Root(), name);
  if (!src.ok()) return src.status();
  if (!src->has_value()) return int64_t{0};
  int64_t n = 0;
  BucketCursor c = f.Cursor(**src);
  c.First();
  while (c.Valid()) {
    absl::StatusOr<std::unique_ptr<btree::Tx>> tx = db.Begin(true);
    if (!tx.ok()) return tx.status();
    absl::StatusOr<btree::Bucket*> b = (*tx)->CreateBucketIfNotExists(name);
    if (!b.ok()) return b.status();
    // Keys arrive in order: full pages, as a sequential load wants.
    (*b)->SetFillPercent(1.0);
    for (int64_t i = 0; i < kRecordsPerTxn && c.Valid(); ++i, c.Next()) {
      if (c.is_bucket()) return BadRecord(name, c.page(), "holds a nested bucket");
      if (absl::Status s = check(c.key(), c.value(), c.page()); !s.ok()) return s;
      if (absl::Status s = (*b)->Put(c.key(), c.value()); !s.ok()) return s;
      ++n;
    }
    if (!c.status().ok()) return c.status();
    if (absl::Status s = (*tx)->Commit(); !s.ok()) return s;
  }
  if (!c.status().ok()) return c.status();
  return n;
}

// The meta bucket's three keys revkv shares with etcd, checked.
absl::Status CopyMeta(const BoltFile& f, btree::DB& db, ImportReport* report) {
  absl::StatusOr<std::optional<BucketRef>> src = f.Bucket(f.Root(), mvcc::kMetaBucket);
  if (!src.ok()) return src.status();
  std::vector<std::pair<std::string, std::string>> keep;
  if (src->has_value()) {
    absl::Status s = f.ForEach(**src, [&](std::string_view k, std::string_view v, bool) {
      if (k == mvcc::kConsistentIndexKey) {
        if (v.size() != 8) return BadRecord("meta", 0, "consistent_index is not 8 bytes");
        uint64_t ci = 0;
        for (char c : v) ci = (ci << 8) | uint8_t(c);
        report->consistent_index = ci;
      } else if (k == mvcc::kScheduledCompactKey || k == mvcc::kFinishedCompactKey) {
        mvcc::Revision rev;
        bool tombstone;
        if (!mvcc::ParseRevisionKey(v, &rev, &tombstone) || tombstone || rev.main < 0) {
          return BadRecord("meta", 0, absl::StrFormat("%s is not a revision", std::string(k)));
        }
      } else {
        return absl::OkStatus();  // etcd's other meta keys (3.5's term, confState) stay behind
      }
      keep.emplace_back(std::string(k), std::string(v));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return db.Update([&](btree::Tx& tx) -> absl::Status {
    absl::StatusOr<btree::Bucket*> b = tx.CreateBucketIfNotExists(mvcc::kMetaBucket);
    if (!b.ok()) return b.status();
    absl::StatusOr<btree::Bucket*> k = tx.CreateBucketIfNotExists(mvcc::kKeyBucket);
    if (!k.ok()) return k.status();
    for (const auto& [key, value] : keep) {
      if (absl::Status s = (*b)->Put(key, value); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

absl::Status SyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return snapshot::PathError("open", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : snapshot::PathError("sync", path, err);
}

// Writes the buckets into a new btree file at DataFilePath(dir).
absl::Status WriteFile(const BoltFile& f, const std::string& dir, ImportReport* report) {
  if (absl::Status s = snapshot::MkdirAll(dir + "/member/snap"); !s.ok()) return s;
  const std::string path = DataFilePath(dir);
  btree::Options opts;
  opts.no_sync = true;  // one fsync at the end: a crash leaves only a temporary directory
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, opts);
  if (!db.ok()) return db.status();
  if (absl::Status s = CopyMeta(f, **db, report); !s.ok()) return s;
  mvcc::KeyValue kv;  // reused: its strings keep their capacity
  absl::StatusOr<int64_t> n =
      CopyBucket(f, **db, mvcc::kKeyBucket, [&](std::string_view k, std::string_view v, uint64_t page) {
        return CheckKeyRecord(k, v, page, &kv);
      });
  if (!n.ok()) return n.status();
  report->records = *n;
  n = CopyBucket(f, **db, "lease", [](std::string_view k, std::string_view, uint64_t page) {
    return k.size() == 8 ? absl::OkStatus() : BadRecord("lease", page, "a lease id is not 8 bytes");
  });
  if (!n.ok()) return n.status();
  report->leases = *n;
  n = CopyBucket(f, **db, "alarm", [](std::string_view k, std::string_view, uint64_t page) {
    return k.empty() ? BadRecord("alarm", page, "an empty alarm key") : absl::OkStatus();
  });
  if (!n.ok()) return n.status();
  report->alarms = *n;
  db->reset();
  return SyncFile(path);
}

// Opens the new store once: it rebuilds its index from the records (and
// resumes a compaction etcd scheduled but did not finish), which is the
// proof that the import is a store that works.
absl::Status OpenAsStore(const std::string& dir, ImportReport* report) {
  absl::StatusOr<std::unique_ptr<DB>> d = DB::Open(dir, {});
  if (!d.ok()) return d.status();
  if (absl::Status s = (*d)->WaitCompaction(); !s.ok()) return s;
  report->revision = (*d)->Rev();
  report->compact_revision = (*d)->CompactRev();
  return (*d)->Close();
}

}  // namespace

bool IsBadRecord(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kEtcdFileErrorUrl, kBadRecord);
}
bool IsMemberRunning(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kEtcdFileErrorUrl,
                       kMemberRunning);
}

absl::StatusOr<ImportReport> ImportBolt(const BoltFile& f, const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("import needs --data-dir");
  if (!snapshot::MissingOrEmptyDir(data_dir)) {
    return absl::AlreadyExistsError(absl::StrFormat("data-dir \"%s\" exists", data_dir));
  }
  std::string clean = data_dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  const std::string tmp = absl::StrFormat("%s.import-tmp-%d", clean, ::getpid());
  snapshot::RemoveAll(tmp);
  ImportReport report;
  report.meta_note = f.note();
  absl::Status s = WriteFile(f, tmp, &report);
  if (s.ok()) s = OpenAsStore(tmp, &report);
  for (const std::string& d : {tmp + "/member/snap", tmp + "/member", tmp}) {
    if (s.ok()) s = snapshot::SyncDir(d);
  }
  if (s.ok()) {
    // An empty target directory is replaced; rename fails on a non-empty one.
    ::rmdir(clean.c_str());
    if (::rename(tmp.c_str(), clean.c_str()) != 0) s = snapshot::PathError("rename", tmp, errno);
  }
  if (!s.ok()) {
    snapshot::RemoveAll(tmp);
    return s;
  }
  if (absl::Status d = snapshot::SyncDir(snapshot::Dirname(clean)); !d.ok()) return d;
  return report;
}

absl::StatusOr<ImportReport> RestoreEtcdSnapshot(const std::string& path,
                                                 const std::string& data_dir,
                                                 bool skip_hash_check) {
  absl::StatusOr<EtcdFile> f = ReadEtcdFile(path, !skip_hash_check);
  if (!f.ok()) return f.status();
  absl::StatusOr<ImportReport> r = ImportBolt(*f->bolt, data_dir);
  if (r.ok()) r->sha256_verified = f->sha256_verified;
  return r;
}

absl::StatusOr<ImportReport> MigrateEtcdDataDir(const std::string& etcd_dir,
                                                const std::string& data_dir) {
  const std::string path = etcd_dir + "/member/snap/db";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return snapshot::PathError("open", path, errno);
  // A running etcd holds bbolt's exclusive flock; ours, shared, keeps it
  // from starting while we read.
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return util::WithName(absl::FailedPreconditionError(absl::StrFormat(
                                "%s is locked: stop the etcd member before migrating", path)),
                            kEtcdFileErrorUrl, kMemberRunning);
    }
    return snapshot::PathError("lock", path, err);
  }
  absl::StatusOr<EtcdFile> f = ReadEtcdFile(path, /*check_hash=*/false);
  absl::StatusOr<ImportReport> r = f.ok() ? ImportBolt(*f->bolt, data_dir)
                                          : absl::StatusOr<ImportReport>(f.status());
  ::close(fd);
  return r;
}

}  // namespace revkv::interop::etcd
