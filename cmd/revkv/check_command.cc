// revkv check: everything wrong with the data file, each problem with its
// page, kind and the keys it may lose (-w json), so a user knows what is
// lost before choosing --allow-rollback or a restore.
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "snapshot/data_dir.h"
#include "snapshot/file_util.h"

namespace revkv::cli {
namespace {

std::string Json(const std::string& path, const std::vector<btree::CheckProblem>& problems) {
  std::string out = absl::StrFormat("{\"path\":%s,\"ok\":%s,\"problems\":[", JsonString(path),
                                    problems.empty() ? "true" : "false");
  for (size_t i = 0; i < problems.size(); ++i) {
    const btree::CheckProblem& p = problems[i];
    out += absl::StrFormat("%s{\"kind\":\"%s\",\"page\":%d", i == 0 ? "" : ",",
                           btree::CheckProblem::KindName(p.kind), p.page);
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
  if (inv.data_dir.empty()) {
    return ExitError(kExitError, "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR");
  }
  const std::string path = snapshot::DataFilePath(inv.data_dir);
  if (absl::StatusOr<uint64_t> size = snapshot::StatSize(path); !size.ok()) {
    return ExitError(kExitError, size.status().message());
  }
  std::vector<btree::CheckProblem> problems;
  btree::Options opts;
  opts.read_only = true;  // check never writes, so it may look past a damaged commit
  opts.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, opts);
  if (!db.ok() && btree::IsNewestCommitDamaged(db.status())) {
    btree::CheckProblem p;
    p.kind = btree::CheckProblem::kNewestCommit;
    p.page = btree::DamagedPage(db.status());
    p.message = std::string(db.status().message());
    problems.push_back(std::move(p));
    opts.allow_rollback = true;
    db = btree::DB::Open(path, opts);
  } else if (db.ok() && !(*db)->open_note().empty()) {
    btree::CheckProblem p;
    p.kind = btree::CheckProblem::kMeta;
    p.message = (*db)->open_note();
    problems.push_back(std::move(p));
  }
  if (!db.ok()) return ExitError(kExitError, db.status().message());
  absl::Status s = (*db)->View([&](btree::Tx& tx) {
    for (btree::CheckProblem& p : tx.CheckProblems()) problems.push_back(std::move(p));
    return absl::OkStatus();
  });
  if (!s.ok()) return ExitError(kExitError, s.message());
  if (inv.format == Format::kJson) {
    *inv.out << Json(path, problems);
  } else if (problems.empty()) {
    *inv.out << "OK\n";
  } else {
    for (const btree::CheckProblem& p : problems) *inv.out << p.message << "\n";
  }
  if (problems.empty()) return absl::OkStatus();
  return ExitError(kExitError, absl::StrFormat("%d problem%s found in %s", problems.size(),
                                               problems.size() == 1 ? "" : "s", path));
}

}  // namespace revkv::cli
