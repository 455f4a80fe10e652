// put, get, del, txn, compaction.
#include <iterator>

#include "absl/strings/str_format.h"
#include "etcdkv/apply.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_kv.h"
#include "cmd/revkv/txn_request.h"
#include "revkv/db.h"

namespace revkv::cli {
namespace {

// Prints `text` (or the error) after closing the directory durably.
absl::Status Finish(Invocation& inv, revkv::DB* dir,
                    const absl::StatusOr<std::string>& text) {
  absl::Status closed = dir->Close();
  if (!closed.ok()) return ExitError(kExitError, closed.message());
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

// Client mode (remote_kv.h): prints `text` (or the error).
absl::Status Emit(Invocation& inv, const absl::StatusOr<std::string>& text) {
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RemoteKv>> Dial(const Invocation& inv) {
  return RemoteKv::Open(inv.remote);
}

absl::StatusOr<std::string> GetText(const Invocation& inv, const RangeRequest& req,
                                    const RangeResponse& resp) {
  if (inv.get.print_value_only && inv.format != Format::kSimple) {
    return ExitError(kExitBadArgs, "print-value-only is only for `--write-out=simple`");
  }
  absl::StatusOr<std::string> text = PrintRange(inv.format, resp, inv.get.print_value_only, inv.hex);
  if (text.ok() && inv.format == Format::kSimple && req.count_only) {
    *text += absl::StrFormat("%d\n", resp.count);
  }
  return text;
}

}  // namespace

absl::Status PutCommand(Invocation& inv) {
  absl::StatusOr<PutRequest> req = BuildPut(inv.args, inv.put, [&] {
    return std::string(std::istreambuf_iterator<char>(*inv.in), std::istreambuf_iterator<char>());
  });
  if (!req.ok()) return req.status();
  if (inv.remote_mode()) {
    auto kv = Dial(inv);
    if (!kv.ok()) return kv.status();
    absl::StatusOr<PutResponse> resp = (*kv)->Put(*req);
    if (!resp.ok()) return resp.status();
    return Emit(inv, PrintPut(inv.format, *resp, inv.hex));
  }
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<PutResponse> resp = Put((*dir)->store(), *req);
  if (!resp.ok()) return Finish(inv, dir->get(), resp.status());
  return Finish(inv, dir->get(), PrintPut(inv.format, *resp, inv.hex));
}

absl::Status GetCommand(Invocation& inv) {
  absl::StatusOr<RangeRequest> req = BuildGet(inv.args, inv.get);
  if (!req.ok()) return req.status();
  if (inv.remote_mode()) {
    auto kv = Dial(inv);
    if (!kv.ok()) return kv.status();
    absl::StatusOr<RangeResponse> resp = (*kv)->Range(*req);
    if (!resp.ok()) return resp.status();
    return Emit(inv, GetText(inv, *req, *resp));
  }
  auto dir = OpenDataDir(inv, Access::kRead);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<RangeResponse> resp = Range((*dir)->store(), *req);
  if (!resp.ok()) return Finish(inv, dir->get(), resp.status());
  return Finish(inv, dir->get(), GetText(inv, *req, *resp));
}

absl::Status DelCommand(Invocation& inv) {
  absl::StatusOr<DeleteRequest> req = BuildDel(inv.args, inv.del);
  if (!req.ok()) return req.status();
  if (inv.remote_mode()) {
    auto kv = Dial(inv);
    if (!kv.ok()) return kv.status();
    absl::StatusOr<DeleteResponse> resp = (*kv)->Delete(*req);
    if (!resp.ok()) return resp.status();
    return Emit(inv, PrintDelete(inv.format, *resp, inv.hex));
  }
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<DeleteResponse> resp = Delete((*dir)->store(), *req);
  if (!resp.ok()) return Finish(inv, dir->get(), resp.status());
  return Finish(inv, dir->get(), PrintDelete(inv.format, *resp, inv.hex));
}

absl::Status TxnCommand(Invocation& inv) {
  absl::StatusOr<TxnRequest> req =
      inv.interactive ? ReadTxnInteractive(*inv.in, *inv.out) : ReadTxn(*inv.in);
  if (!req.ok()) return req.status();
  if (inv.remote_mode()) {
    auto kv = Dial(inv);
    if (!kv.ok()) return kv.status();
    absl::StatusOr<TxnResponse> resp = (*kv)->Txn(*req);
    if (!resp.ok()) return resp.status();
    return Emit(inv, PrintTxn(inv.format, *resp, inv.hex));
  }
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<TxnResponse> resp = Txn((*dir)->store(), *req);
  if (!resp.ok()) return Finish(inv, dir->get(), resp.status());
  return Finish(inv, dir->get(), PrintTxn(inv.format, *resp, inv.hex));
}

absl::Status CompactionCommand(Invocation& inv) {
  if (inv.args.size() != 1) return ExitError(kExitBadArgs, "compaction command needs 1 argument");
  int64_t rev;
  std::string err;
  if (!ParseGoInt64(inv.args[0], &rev, &err)) return ExitError(kExitError, err);
  if (inv.remote_mode()) {
    auto kv = Dial(inv);
    if (!kv.ok()) return kv.status();
    if (absl::Status s = (*kv)->Compact(rev, inv.physical); !s.ok()) return s;
    return Emit(inv, absl::StrFormat("compacted revision %d\n", rev));
  }
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) return dir.status();
  mvcc::Store* store = (*dir)->store();
  absl::Status s = store->Compact(rev);
  // Always physical: the compaction finishes before the process exits.
  if (s.ok()) s = store->WaitCompaction();
  if (!s.ok()) return Finish(inv, dir->get(), ServerError(s));
  return Finish(inv, dir->get(), absl::StrFormat("compacted revision %d\n", rev));
}

}  // namespace revkv::cli
