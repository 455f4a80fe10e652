// revkv check: everything wrong with the data file, each problem with its
// page, kind and the keys it may lose (-w json), so a user knows what is
// lost before choosing --allow-rollback or a restore.
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "mvcc/checkpoint.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"

namespace revkv::cli {
namespace {

// The buckets as a read-only btree transaction shows them.
class TxReader : public mvcc::BucketReader {
 public:
  explicit TxReader(btree::Tx& tx) : tx_(tx) {}
  absl::StatusOr<std::string_view> Get(std::string_view bucket, std::string_view key) override {
    absl::StatusOr<btree::Bucket*> b = tx_.GetBucket(bucket);
    if (!b.ok()) return b.status();
    std::string_view v;
    if (absl::Status s = (*b)->Get(key, &v); !s.ok()) return s;
    return v;
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view bucket, std::string_view from,
                                                std::string_view to, size_t limit) override {
    std::vector<std::string> keys;
    absl::StatusOr<btree::Bucket*> b = tx_.GetBucket(bucket);
    if (absl::IsNotFound(b.status())) return keys;
    if (!b.ok()) return b.status();
    btree::Cursor c = (*b)->NewCursor();
    for (c.Seek(from); c.Valid() && c.key() < to && (limit == 0 || keys.size() < limit);
         c.Next()) {
      keys.emplace_back(c.key());
    }
    if (!c.status().ok()) return c.status();
    return keys;
  }
  absl::Status ForEachKey(std::string_view bucket,
                          const std::function<absl::Status(std::string_view)>& fn) override {
    absl::StatusOr<btree::Bucket*> b = tx_.GetBucket(bucket);
    if (absl::IsNotFound(b.status())) return absl::OkStatus();
    if (!b.ok()) return b.status();
    btree::Cursor c = (*b)->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
      if (absl::Status s = fn(c.key()); !s.ok()) return s;
    }
    return c.status();
  }

 private:
  btree::Tx& tx_;
};

// Verifies the index checkpoint as the next open would, and also counts the
// key bucket's records against it. A problem line if it would be rejected;
// none when there is no checkpoint to use (none, an older format, or one
// from before a compaction: open rebuilds without a word).
absl::Status CheckCheckpoint(btree::DB* db, std::vector<std::string>* problems) {
  return db->View([&](btree::Tx& tx) -> absl::Status {
    TxReader r(tx);
    absl::StatusOr<int64_t> finished = mvcc::ReadMetaRevision(r, mvcc::kFinishedCompactKey);
    absl::StatusOr<int64_t> scheduled = mvcc::ReadMetaRevision(r, mvcc::kScheduledCompactKey);
    absl::Status s = finished.ok() ? scheduled.status() : finished.status();
    if (s.ok()) {
      mvcc::Index index;
      mvcc::CheckpointHeader h;
      mvcc::VerifyOptions options;
      options.count_records = true;
      s = mvcc::LoadVerifiedCheckpoint(r, *finished, *scheduled, options, &index, &h).status();
    }
    if (!s.ok()) {
      problems->push_back(absl::StrFormat(
          "%s (the next open rebuilds the index from the key bucket)", s.message()));
    }
    return absl::OkStatus();
  });
}


// A problem of the file (btree::CheckProblem) or of the index checkpoint.
struct Problem {
  std::string kind;
  btree::CheckProblem detail;
};

std::string Json(const std::string& path, const std::vector<Problem>& problems) {
  std::string out = absl::StrFormat("{\"path\":%s,\"ok\":%s,\"problems\":[", JsonString(path),
                                    problems.empty() ? "true" : "false");
  for (size_t i = 0; i < problems.size(); ++i) {
    const btree::CheckProblem& p = problems[i].detail;
    out += absl::StrFormat("%s{\"kind\":\"%s\",\"page\":%d", i == 0 ? "" : ",",
                           problems[i].kind, p.page);
    if (p.keyed) {
      // Keys are bytes: base64, as etcdctl's JSON writes them.
      out += absl::StrFormat(",\"bucket\":%s,\"first_key\":\"%s\",\"end_key\":\"%s\"",
                             JsonString(p.bucket), Base64(p.first_key), Base64(p.end_key));
    }
    out += absl::StrFormat(",\"message\":%s}", JsonString(p.message));
  }
  return out + "]}\n";
}

}  // namespace

absl::Status CheckCommand(Invocation& inv) {
  // Its subcommands (perf, datascale) are dispatched apart; any other word
  // is a mistake, not a request to check the file.
  if (!inv.args.empty()) {
    return ExitError(kExitBadArgs,
                     absl::StrFormat("check takes no arguments, got \"%s\" (its etcdctl "
                                     "subcommands perf and datascale are not supported)",
                                     inv.args[0]));
  }
  if (inv.data_dir.empty()) {
    return NoDataDir(inv);
  }
  const std::string path = revkv::DataFilePath(inv.data_dir);
  if (absl::StatusOr<uint64_t> size = snapshot::StatSize(path); !size.ok()) {
    return ExitError(kExitError, size.status().message());
  }
  std::vector<Problem> problems;
  auto add = [&](btree::CheckProblem p) {
    problems.push_back({btree::CheckProblem::KindName(p.kind), std::move(p)});
  };
  btree::Options opts;
  opts.read_only = true;  // check never writes, so it may look past a damaged commit
  opts.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, opts);
  if (!db.ok() && btree::IsNewestCommitDamaged(db.status())) {
    btree::CheckProblem p;
    p.kind = btree::CheckProblem::kNewestCommit;
    p.page = btree::DamagedPage(db.status());
    p.message = std::string(db.status().message());
    add(std::move(p));
    opts.allow_rollback = true;
    db = btree::DB::Open(path, opts);
  } else if (db.ok() && !(*db)->open_note().empty()) {
    btree::CheckProblem p;
    p.kind = btree::CheckProblem::kMeta;
    p.message = (*db)->open_note();
    add(std::move(p));
  }
  if (!db.ok()) return ExitError(kExitError, db.status().message());
  absl::Status s = (*db)->View([&](btree::Tx& tx) {
    for (btree::CheckProblem& p : tx.CheckProblems()) add(std::move(p));
    return absl::OkStatus();
  });
  if (!s.ok()) return ExitError(kExitError, s.message());
  // The checkpoint is read only if the pages hold up.
  if (problems.empty()) {
    std::vector<std::string> found;
    CheckCheckpoint(db->get(), &found).IgnoreError();
    for (std::string& m : found) {
      btree::CheckProblem p;
      p.message = std::move(m);
      problems.push_back({"index_checkpoint", std::move(p)});
    }
  }
  if (inv.format == Format::kJson) {
    *inv.out << Json(path, problems);
  } else if (problems.empty()) {
    *inv.out << "OK\n";
  } else {
    for (const Problem& p : problems) *inv.out << p.detail.message << "\n";
  }
  if (problems.empty()) return absl::OkStatus();
  return ExitError(kExitError, absl::StrFormat("%d problem%s found in %s", problems.size(),
                                               problems.size() == 1 ? "" : "s", path));
}

}  // namespace revkv::cli
