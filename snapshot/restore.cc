// snapshot::Restore: verify, build the data directory in a temporary sibling
// directory, check it (structure, and the trailer's revisions against the
// content), rename it into place.
#include <unistd.h>

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "mvcc/revision.h"
#include "snapshot/content.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"
#include "snapshot/snapshot.h"

namespace revkv::snapshot {
namespace {

// etcdutl's --bump-revision/--mark-compacted: compacts at the latest
// revision, then records latest+bump as the compacted (and so current)
// revision. Unlike etcdutl no placeholder record is written.
absl::Status BumpAndMark(const std::string& dir, const RestoreOptions& options) {
  absl::StatusOr<std::unique_ptr<DB>> d = DB::Open(dir, {});
  if (!d.ok()) return d.status();
  mvcc::Store* store = (*d)->store();
  const int64_t latest = store->Rev();
  // Checked before anything changes: a wrapped sum would be a negative
  // revision, which the check below would skip without a word.
  int64_t target;
  if (__builtin_add_overflow(latest, options.bump_revision, &target)) {
    return ErrBumpRevisionOverflow(latest, options.bump_revision);
  }
  if (latest > store->CompactRev()) {
    if (absl::Status s = store->Compact(latest); !s.ok()) return s;
    if (absl::Status s = store->WaitCompaction(); !s.ok()) return s;
  }
  if (target > latest) {
    backend::BatchTx& tx = (*d)->backend()->batch_tx();
    tx.Lock();
    const std::string v = mvcc::RevisionKey({target, 0});
    absl::Status s = tx.UnsafePut(mvcc::kMetaBucket, mvcc::kScheduledCompactKey, v);
    if (s.ok()) s = tx.UnsafePut(mvcc::kMetaBucket, mvcc::kFinishedCompactKey, v);
    tx.Unlock();
    if (!s.ok()) return s;
  }
  return (*d)->Close();
}

absl::Status Build(const std::string& path, const Content& c, const std::string& tmp,
                   const RestoreOptions& options) {
  if (absl::Status s = MkdirAll(tmp + "/member/snap"); !s.ok()) return s;
  const std::string db = DataFilePath(tmp);
  if (absl::Status s = CopyContent(path, c.size, db); !s.ok()) return s;
  // A full structural check before the store ever opens it.
  absl::StatusOr<DbFileStatus> st = StatusOfDbFile(db);
  if (!st.ok()) return absl::DataLossError(absl::StrCat(path, ": ", st.status().message()));
  // The trailer's revisions must be the content's own, before any bump.
  if (!c.bare && !c.sha256) {
    if (absl::Status s = CheckTrailerAgainstContent(path, c.trailer, st->revisions); !s.ok()) {
      return s;
    }
  }
  if (options.mark_compacted || options.bump_revision > 0) {
    if (absl::Status s = BumpAndMark(tmp, options); !s.ok()) return s;
  } else {
    // Opening rebuilds the index: a store that opens is a store that works.
    absl::StatusOr<std::unique_ptr<DB>> d = DB::Open(tmp, {});
    if (!d.ok()) return d.status();
    if (absl::Status s = (*d)->Close(); !s.ok()) return s;
  }
  for (const std::string& dir : {tmp + "/member/snap", tmp + "/member", tmp}) {
    if (absl::Status s = SyncDir(dir); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Removes `<target>.restore-tmp-<pid>` directories that restores killed
// mid-way left behind (their process is gone); a running restore's is kept.
void RemoveStaleTemps(const std::string& target) {
  const std::string dir = Dirname(target);
  const std::string prefix =
      target.substr(target.find_last_of('/') == std::string::npos ? 0
                                                                 : target.find_last_of('/') + 1) +
      ".restore-tmp-";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) RemoveAll(entry.path().string());
  }
}

}  // namespace

absl::Status Restore(const std::string& path, const std::string& data_dir,
                     const RestoreOptions& options) {
  if (options.bump_revision < 0) {
    return absl::InvalidArgumentError("--bump-revision must be >= 0");
  }
  if (options.bump_revision > 0 && !options.mark_compacted) {
    return absl::InvalidArgumentError("--mark-compacted required if --bump-revision > 0");
  }
  absl::StatusOr<Content> c =
      ReadContentInfo(path, !options.skip_hash_check, options.skip_hash_check);
  if (!c.ok()) return c.status();
  if (data_dir.empty()) return absl::InvalidArgumentError("restore needs --data-dir");
  if (!MissingOrEmptyDir(data_dir)) {
    return absl::AlreadyExistsError(absl::StrFormat("data-dir \"%s\" exists", data_dir));
  }
  std::string clean = data_dir;
  while (clean.size() > 1 && clean.back() == '/') clean.pop_back();
  const std::string tmp = absl::StrFormat("%s.restore-tmp-%d", clean, ::getpid());
  RemoveStaleTemps(clean);
  RemoveAll(tmp);
  absl::Status s = Build(path, *c, tmp, options);
  if (s.ok() && ::rename(tmp.c_str(), clean.c_str()) != 0) {
    s = PathError("rename", tmp, errno);
  }
  if (!s.ok()) {
    RemoveAll(tmp);
    return s;
  }
  return SyncDir(Dirname(clean));
}

}  // namespace revkv::snapshot
