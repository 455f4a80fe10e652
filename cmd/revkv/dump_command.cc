// `revkv dump [KEY]` (alias `inspect`): the revision history kept in the data
// file, oldest first: every put and delete of KEY, or of every key, that
// compaction has not removed. Reads the file read-only; writes nothing.
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"

namespace revkv::cli {
namespace {

std::string SimpleLine(const mvcc::Revision& rev, bool tombstone, const mvcc::KeyValue& kv) {
  if (tombstone) return absl::StrFormat("%d.%d delete %s\n", rev.main, rev.sub, GoQuote(kv.key));
  return absl::StrFormat("%d.%d put %s create_revision=%d version=%d value=%s\n", rev.main,
                         rev.sub, GoQuote(kv.key), kv.create_revision, kv.version,
                         GoQuote(kv.value));
}

std::string JsonObject(const mvcc::Revision& rev, bool tombstone, const mvcc::KeyValue& kv) {
  std::string s = absl::StrFormat("{\"revision\":%d,\"sub\":%d,\"key\":\"%s\"", rev.main, rev.sub,
                                  Base64(kv.key));
  if (tombstone) return s + ",\"tombstone\":true}";
  return s + absl::StrFormat(",\"create_revision\":%d,\"version\":%d,\"value\":\"%s\"}",
                             kv.create_revision, kv.version, Base64(kv.value));
}

}  // namespace

absl::Status DumpCommand(Invocation& inv) {
  if (inv.args.size() > 1) {
    return ExitError(kExitBadArgs, "dump command takes at most one argument: the key");
  }
  if (inv.data_dir.empty()) {
    return NoDataDir(inv);
  }
  const std::string path = revkv::DataFilePath(inv.data_dir);
  if (absl::StatusOr<uint64_t> size = snapshot::StatSize(path); !size.ok()) {
    return ExitError(kExitError, size.status().message());
  }
  btree::Options opts;
  opts.read_only = true;
  opts.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, opts);
  if (!db.ok()) return ExitError(kExitError, db.status().message());
  const bool one_key = !inv.args.empty();
  const bool json = inv.format == Format::kJson;
  std::string out = json ? "[" : "";
  bool first = true;
  absl::Status s = (*db)->View([&](btree::Tx& tx) -> absl::Status {
    absl::StatusOr<btree::Bucket*> b = tx.GetBucket(mvcc::kKeyBucket);
    if (absl::IsNotFound(b.status())) return absl::OkStatus();  // nothing written yet
    if (!b.ok()) return b.status();
    btree::Cursor c = (*b)->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
      mvcc::Revision rev;
      bool tombstone;
      if (!mvcc::ParseRevisionKey(c.key(), &rev, &tombstone)) {
        return absl::DataLossError("malformed revision key in the key bucket");
      }
      mvcc::KeyValue kv;
      if (absl::Status d = mvcc::DecodeKeyValue(c.value(), &kv); !d.ok()) return d;
      if (one_key && kv.key != inv.args[0]) continue;
      if (json) {
        out += (first ? "" : ",") + JsonObject(rev, tombstone, kv);
      } else {
        out += SimpleLine(rev, tombstone, kv);
      }
      first = false;
    }
    return c.status();
  });
  if (!s.ok()) return ExitError(kExitError, s.message());
  if (json) out += "]\n";
  *inv.out << out;
  return absl::OkStatus();
}

}  // namespace revkv::cli
