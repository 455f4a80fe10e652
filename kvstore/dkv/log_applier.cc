// LogApplier: dKV writes at their log index, and the deterministic sweep.
#include "kvstore/dkv/log_applier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kvstore/dkv/sweep.h"
#include "kvstore/prefix.h"

namespace revkv::kvstore::dkv {
namespace {

constexpr int64_t kScanPage = 1000;

// index + steps, 0 for never. Steps past int64 saturate (never reached).
int64_t At(int64_t index, uint64_t steps) {
  if (steps == 0) return 0;
  if (steps > uint64_t(INT64_MAX - index)) return INT64_MAX;
  return index + int64_t(steps);
}

// A value under the prefix that is not an entry: the request's answer, as
// Internal -- never DataLoss, which would stop the member's Fsm for good
// (raft/fsm.h) over a value any etcd client could have put there.
absl::StatusOr<Entry> DecodeStored(const mvcc::KeyValue& kv) {
  absl::StatusOr<Entry> e = DecodeEntry(kv.value);
  if (!e.ok()) {
    return absl::InternalError(absl::StrCat(e.status().message(), " (key \"",
                                            kv.key.substr(sizeof(kDistributedPrefix) - 1), "\")"));
  }
  return e;
}

}  // namespace

void LogApplier::Schedule(int64_t delete_at, std::string key) {
  due_.emplace(delete_at, std::move(key));
  pending_.store(int64_t(due_.size()), std::memory_order_relaxed);
}

absl::Status LogApplier::Load() {
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> txn = store_->Read();
  if (!txn.ok()) return txn.status();
  const std::string prefix = kDistributedPrefix;
  const std::string end = PrefixEnd(prefix);
  std::string from = prefix;
  std::vector<Due> found;
  while (true) {
    absl::StatusOr<mvcc::RangeResult> r = (*txn)->Range(from, end, {kScanPage, 0, false});
    if (!r.ok()) return r.status();
    for (const mvcc::KeyValue& kv : r->kvs) {
      absl::StatusOr<Entry> e = DecodeEntry(kv.value);
      if (e.ok() && e->delete_at.count() != 0) {
        found.emplace_back(e->delete_at.count(), kv.key.substr(prefix.size()));
      }
    }
    if (int64_t(r->kvs.size()) < kScanPage) break;
    from = r->kvs.back().key + '\0';
  }
  for (Due& d : found) Schedule(d.first, std::move(d.second));
  loaded_ = true;
  return absl::OkStatus();
}

absl::Status LogApplier::Sweep(int64_t index) {
  if (!loaded_) {
    if (absl::Status s = Load(); !s.ok()) return s;
  }
  if (due_.empty() || due_.top().first > index) return absl::OkStatus();
  std::vector<Due> hints;
  while (!due_.empty() && due_.top().first <= index) {
    hints.push_back(due_.top());
    due_.pop();
  }
  pending_.store(int64_t(due_.size()), std::memory_order_relaxed);
  // Byte order, not hint order: members whose queues hold different stale
  // hints must delete in the same order (sub revisions enter HashKV).
  std::vector<std::string> keys;
  keys.reserve(hints.size());
  for (const Due& d : hints) keys.push_back(d.second);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());

  auto keep_hints = [&] {
    for (Due& d : hints) Schedule(d.first, std::move(d.second));
  };
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) {
    keep_hints();
    return txn.status();
  }
  for (std::string& key : keys) key = StoreKey(key);
  absl::StatusOr<int64_t> removed = DeleteDue(txn->get(), keys, Millis(index));
  absl::Status s = removed.status();
  if (s.ok()) s = (*txn)->End();
  if (!s.ok()) {
    keep_hints();
    return s;
  }
  swept_.fetch_add(*removed, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<revkvpb::DkvResponse> LogApplier::Apply(int64_t index,
                                                       const revkvpb::DkvRequest& req) {
  const std::string k = StoreKey(req.key());
  const Millis now(index);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  bool changed = false;
  int64_t schedule_at = 0;
  switch (req.op()) {
    case revkvpb::DkvRequest::SET_IF_UNSET:
    case revkvpb::DkvRequest::SET: {
      if (req.op() == revkvpb::DkvRequest::SET_IF_UNSET) {
        absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
        if (!cur.ok()) return cur.status();
        if (!cur->kvs.empty()) {
          absl::StatusOr<Entry> old = DecodeStored(cur->kvs[0]);
          if (!old.ok()) return old.status();
          if (!old->Deleted(now)) break;  // live, expired or not: unchanged
        }
      }
      Entry e{Millis(At(index, req.expire_in())), Millis(At(index, req.delete_in())),
              req.value()};
      if (absl::StatusOr<int64_t> r = (*txn)->Put(k, EncodeEntry(e)); !r.ok()) return r.status();
      changed = true;
      schedule_at = e.delete_at.count();
      break;
    }
    case revkvpb::DkvRequest::EXPIRE: {
      absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
      if (!cur.ok()) return cur.status();
      if (cur->kvs.empty()) break;
      absl::StatusOr<Entry> e = DecodeStored(cur->kvs[0]);
      if (!e.ok()) return e.status();
      if (e->Deleted(now)) {
        // Only if this entry's sweep failed: remove it now.
        absl::StatusOr<int64_t> n = (*txn)->DeleteRange(k, "");
        if (!n.ok()) return n.status();
        changed = *n > 0;
      } else if (!e->Expired(now)) {
        e->expire_at = now;
        e->value.clear();
        if (absl::StatusOr<int64_t> r = (*txn)->Put(k, EncodeEntry(*e)); !r.ok()) {
          return r.status();
        }
        changed = true;
      }
      break;
    }
    case revkvpb::DkvRequest::DELETE: {
      absl::StatusOr<int64_t> n = (*txn)->DeleteRange(k, "");
      if (!n.ok()) return n.status();
      changed = *n > 0;
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("dkv: unknown operation ", int(req.op())));
  }
  if (absl::Status s = (*txn)->End(); !s.ok()) return s;
  if (schedule_at != 0) Schedule(schedule_at, req.key());
  revkvpb::DkvResponse resp;
  resp.set_index(uint64_t(index));
  resp.set_revision(store_->Rev());
  resp.set_changed(changed);
  return resp;
}

}  // namespace revkv::kvstore::dkv
