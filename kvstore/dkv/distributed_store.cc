// DistributedStore: dKV requests through the cluster, linearizable reads.
#include "kvstore/dkv/distributed_store.h"

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "kvstore/prefix.h"
#include "server/applier.h"

namespace revkv::kvstore::dkv {
namespace {

absl::Status ErrClosed() { return absl::FailedPreconditionError("dkv: store is closed"); }

absl::Status CheckSteps(Millis d, const char* name) {
  if (d.count() < 0) return absl::InvalidArgumentError(absl::StrCat("dkv: negative ", name));
  return absl::OkStatus();
}

}  // namespace

void DistributedStore::Close() { gate_.Close(); }

uint64_t DistributedStore::applied_index() const {
  return member_->replication().applier->applied_index();
}

absl::StatusOr<WriteAck> DistributedStore::Write(revkvpb::DkvRequest req) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  revkvpb::InternalRequest entry;
  *entry.mutable_dkv() = std::move(req);
  absl::StatusOr<server::ApplyResult> r = member_->forwarder()->Propose(std::move(entry));
  if (!r.ok()) return r.status();
  const auto* resp = std::get_if<revkvpb::DkvResponse>(&*r);
  if (resp == nullptr) return absl::InternalError("dkv: a write answered with another result");
  return WriteAck{resp->index(), resp->revision(), resp->changed()};
}

absl::StatusOr<WriteAck> DistributedStore::WriteE(revkvpb::DkvRequest::Op op,
                                                  std::string_view key, std::string_view value,
                                                  Millis expire_in, Millis delete_in) {
  if (absl::Status s = CheckSteps(expire_in, "expire_in"); !s.ok()) return s;
  if (absl::Status s = CheckSteps(delete_in, "delete_in"); !s.ok()) return s;
  revkvpb::DkvRequest req;
  req.set_op(op);
  req.set_key(std::string(key));
  req.set_value(std::string(value));
  req.set_expire_in(uint64_t(expire_in.count()));
  req.set_delete_in(uint64_t(delete_in.count()));
  return Write(std::move(req));
}

absl::Status DistributedStore::Set(std::string_view key, std::string_view value) {
  return WriteE(revkvpb::DkvRequest::SET, key, value, Millis(0), Millis(0)).status();
}

absl::Status DistributedStore::SetE(std::string_view key, std::string_view value,
                                    Millis expire_in, Millis delete_in) {
  return WriteE(revkvpb::DkvRequest::SET, key, value, expire_in, delete_in).status();
}

absl::Status DistributedStore::SetEIfUnset(std::string_view key, std::string_view value,
                                           Millis expire_in, Millis delete_in) {
  return WriteE(revkvpb::DkvRequest::SET_IF_UNSET, key, value, expire_in, delete_in).status();
}

absl::Status DistributedStore::Expire(std::string_view key) {
  return WriteE(revkvpb::DkvRequest::EXPIRE, key, "", Millis(0), Millis(0)).status();
}

absl::Status DistributedStore::Delete(std::string_view key) {
  return WriteE(revkvpb::DkvRequest::DELETE, key, "", Millis(0), Millis(0)).status();
}

absl::StatusOr<DistributedStore::Read> DistributedStore::ReadKey(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  if (absl::Status s = member_->ReadBarrier(); !s.ok()) return s;
  Read out;
  // The clock first, then the key (see the header).
  out.at = int64_t(applied_index());
  absl::StatusOr<mvcc::RangeResult> r = member_->db()->Range(LogApplier::StoreKey(key), "");
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return out;
  absl::StatusOr<Entry> e = DecodeEntry(r->kvs[0].value);
  if (!e.ok()) {
    return absl::DataLossError(
        absl::StrCat(e.status().message(), " (key \"", std::string(key), "\")"));
  }
  out.found = true;
  out.entry = *std::move(e);
  return out;
}

absl::StatusOr<GetResult> DistributedStore::Get(std::string_view key) {
  absl::StatusOr<Read> r = ReadKey(key);
  if (!r.ok()) return r.status();
  if (!r->found || r->entry.Expired(Millis(r->at))) return GetResult{};
  return GetResult{std::move(r->entry.value), true};
}

absl::StatusOr<bool> DistributedStore::Has(std::string_view key) {
  absl::StatusOr<Read> r = ReadKey(key);
  if (!r.ok()) return r.status();
  return r->found && !r->entry.Deleted(Millis(r->at));
}

absl::StatusOr<DatabaseInfo> DistributedStore::GetDBInfo() {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  mvcc::Store* store = member_->db()->store();
  DatabaseInfo info;
  info.size_bytes = store->backend()->FileSize();
  info.db_type = "revkv";
  info.supported_features = {Feature::kSet,    Feature::kSetE,   Feature::kSetEIfUnset,
                             Feature::kGet,    Feature::kExpire, Feature::kDelete,
                             Feature::kHas,    Feature::kGarbageCollect};
  const std::string prefix = kDistributedPrefix;
  absl::StatusOr<mvcc::RangeResult> r =
      store->Range(prefix, PrefixEnd(prefix), mvcc::RangeOptions{0, 0, /*count_only=*/true});
  if (!r.ok()) return r.status();
  info.key_count = r->count;
  info.revision = r->rev;
  info.compact_revision = store->CompactRev();
  const server::Applier* applier = member_->replication().applier;
  info.pending_deletes = applier->dkv().pending();
  info.swept_keys = applier->dkv().swept();
  return info;
}

}  // namespace revkv::kvstore::dkv
