#include "bench/scaling_workloads.h"

#include <time.h>

#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "backend/backend.h"
#include "bench/open_store.h"
#include "etcdkv/apply.h"
#include "cmd/revkv/txn_request.h"
#include "mvcc/store.h"

namespace revkv::bench {
namespace {

const std::string kAll(1, '\0');  // a range end: every key from the start on

// CPU time of every thread of the process: the work an operation does,
// whatever else the machine runs meanwhile (its fsyncs are not counted).
uint64_t CpuNs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

double Since(uint64_t t0) { return double(CpuNs() - t0) * 1e-9; }

// A store of its own in a fresh subdirectory, removed with the fixture.
class Fixture {
 public:
  static absl::StatusOr<std::unique_ptr<Fixture>> Open(const ScalingEnv& env) {
    auto f = std::unique_ptr<Fixture>(new Fixture(env));
    absl::StatusOr<std::string> dir = env.dir->Fresh("scaling");
    if (!dir.ok()) return dir.status();
    f->config_ = backend::DefaultBackendConfig();
    f->config_.path = *dir + "/revkv.db";
    f->config_.no_sync = true;  // the check weighs work; an fsync only waits
    absl::StatusOr<double> opened = f->OpenTimed({});
    if (!opened.ok()) return opened.status();
    return f;
  }
  ~Fixture() {
    h_.Close().IgnoreError();
    env_.dir->Remove("scaling");
  }

  mvcc::Store* store() { return h_.store.get(); }
  std::string_view Key(uint64_t i) const { return env_.data->Key(i); }

  // Puts keys [0, n) in the data set's random order in one write
  // transaction, then commits, so the operation timed next reads the btree.
  absl::Status Load(uint64_t n) {
    absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = h_.store->Write();
    if (!w.ok()) return w.status();
    for (uint32_t i : env_.data->shuffled) {
      if (i >= n) continue;
      if (absl::Status s = (*w)->Put(Key(i), env_.data->Value(i)).status(); !s.ok()) return s;
    }
    if (absl::Status s = (*w)->End(); !s.ok()) return s;
    return h_.backend->ForceCommit();
  }

  // Closes the store (a clean close writes its index checkpoint) and
  // returns the seconds opening it again took.
  absl::StatusOr<double> Reopen(const mvcc::StoreOptions& options) {
    if (absl::Status s = h_.Close(); !s.ok()) return s;
    return OpenTimed(options);
  }

 private:
  explicit Fixture(const ScalingEnv& env) : env_(env) {}

  // Opens the backend and the store over it, in CPU seconds.
  absl::StatusOr<double> OpenTimed(const mvcc::StoreOptions& options) {
    const uint64_t t0 = CpuNs();
    absl::StatusOr<StoreHandle> h = OpenStore(config_, options);
    const double seconds = Since(t0);
    if (!h.ok()) return h.status();
    h_ = *std::move(h);
    return seconds;
  }

  ScalingEnv env_;
  backend::BackendConfig config_;
  StoreHandle h_;
};

absl::Status Mismatch(const char* what, int64_t got, uint64_t want) {
  return absl::InternalError(std::string(what) + ": got " + std::to_string(got) + ", want " +
                             std::to_string(want));
}


// `revkv txn` minus the process: the text parsed, checked and applied.
absl::StatusOr<double> CliTxn(const ScalingEnv& env, uint64_t n, uint64_t gets) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  const std::string value(env.data->value_size, 'v');  // txn lines take no raw bytes
  std::string text = "\n";
  for (uint64_t i = 0; i < n - gets; ++i) {
    text.append("put ").append((*f)->Key(i)).append(" ").append(value).append("\n");
  }
  for (uint64_t i = 0; i < gets; ++i) text.append("get ").append((*f)->Key(i)).append("\n");
  text += "\n\n";
  const uint64_t t0 = CpuNs();
  std::istringstream in(text);
  absl::StatusOr<etcdkv::TxnRequest> req = cli::ReadTxn(in);
  if (!req.ok()) return req.status();
  absl::StatusOr<etcdkv::TxnResponse> resp = etcdkv::Txn((*f)->store(), *req);
  if (!resp.ok()) return resp.status();
  const double seconds = Since(t0);
  if (resp->responses.size() != n) return Mismatch("txn responses", resp->responses.size(), n);
  return seconds;
}

absl::StatusOr<double> CliTxnPut(const ScalingEnv& env, uint64_t n) { return CliTxn(env, n, 0); }
absl::StatusOr<double> CliTxnPutGet(const ScalingEnv& env, uint64_t n) {
  return CliTxn(env, n, n / 2);
}

// One mvcc write transaction: puts, then point reads of the keys it put.
absl::StatusOr<double> StoreTxn(const ScalingEnv& env, uint64_t n, uint64_t gets) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  const uint64_t t0 = CpuNs();
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = (*f)->store()->Write();
  if (!w.ok()) return w.status();
  for (uint64_t i = 0; i < n - gets; ++i) {
    if (absl::Status s = (*w)->Put((*f)->Key(i), env.data->Value(i)).status(); !s.ok()) return s;
  }
  for (uint64_t i = 0; i < gets; ++i) {
    absl::StatusOr<mvcc::RangeResult> r = (*w)->Range((*f)->Key(i), "", {});
    if (!r.ok()) return r.status();
    if (r->kvs.size() != 1) return Mismatch("txn get", int64_t(r->kvs.size()), 1);
  }
  if (absl::Status s = (*w)->End(); !s.ok()) return s;
  return Since(t0);
}

absl::StatusOr<double> TxnPut(const ScalingEnv& env, uint64_t n) { return StoreTxn(env, n, 0); }
absl::StatusOr<double> TxnPutGet(const ScalingEnv& env, uint64_t n) {
  return StoreTxn(env, n, n / 2);
}

absl::StatusOr<double> Range(const ScalingEnv& env, uint64_t n) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  const uint64_t t0 = CpuNs();
  absl::StatusOr<mvcc::RangeResult> r = (*f)->store()->Range((*f)->Key(0), kAll);
  if (!r.ok()) return r.status();
  const double seconds = Since(t0);
  if (r->kvs.size() != n) return Mismatch("range", int64_t(r->kvs.size()), n);
  return seconds;
}

absl::StatusOr<double> DeleteRange(const ScalingEnv& env, uint64_t n) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  const uint64_t t0 = CpuNs();
  absl::StatusOr<std::pair<int64_t, int64_t>> d = (*f)->store()->DeleteRange((*f)->Key(0), kAll);
  if (!d.ok()) return d.status();
  const double seconds = Since(t0);
  if (d->first != int64_t(n)) return Mismatch("delete-range", d->first, n);
  return seconds;
}

// Every key put twice: the compaction deletes n superseded records.
absl::StatusOr<double> Compact(const ScalingEnv& env, uint64_t n) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  mvcc::Store* store = (*f)->store();
  const uint64_t t0 = CpuNs();
  if (absl::Status s = store->Compact(store->Rev()); !s.ok()) return s;
  if (absl::Status s = store->WaitCompaction(); !s.ok()) return s;
  return Since(t0);
}

absl::StatusOr<double> Hash(const ScalingEnv& env, uint64_t n) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  const uint64_t t0 = CpuNs();
  if (absl::Status s = (*f)->store()->HashByRev(0).status(); !s.ok()) return s;
  return Since(t0);
}

absl::StatusOr<double> Open(const ScalingEnv& env, uint64_t n, bool checkpoint) {
  absl::StatusOr<std::unique_ptr<Fixture>> f = Fixture::Open(env);
  if (!f.ok()) return f.status();
  if (absl::Status s = (*f)->Load(n); !s.ok()) return s;
  mvcc::StoreOptions options;
  options.checkpoint_index = checkpoint;
  absl::StatusOr<double> seconds = (*f)->Reopen(options);
  if (!seconds.ok()) return seconds;
  if ((*f)->store()->opened_from_checkpoint() != checkpoint) {
    return absl::InternalError("restore: the checkpoint was not used as asked");
  }
  if ((*f)->store()->index().size() != n) return Mismatch("restore", (*f)->store()->index().size(), n);
  return seconds;
}

absl::StatusOr<double> Restore(const ScalingEnv& env, uint64_t n) { return Open(env, n, true); }
absl::StatusOr<double> RestoreRebuild(const ScalingEnv& env, uint64_t n) {
  return Open(env, n, false);
}

}  // namespace

const std::vector<ScalingWorkload>& ScalingWorkloads() {
  static const std::vector<ScalingWorkload> kAllWorkloads = {
      {"cli-txn-put", "a put line of `revkv txn` (parsed, checked, applied)", CliTxnPut},
      {"cli-txn-put-get", "`revkv txn`: n/2 puts, then a get of each", CliTxnPutGet},
      {"txn-put", "a Put of one mvcc TxnWrite", TxnPut},
      {"txn-put-get", "one TxnWrite: n/2 Puts, then a point Range of each", TxnPutGet},
      {"range", "a key of one Range", Range},
      {"delete-range", "a key of one DeleteRange", DeleteRange},
      {"compact", "a superseded record a Compact deletes", Compact},
      {"hash", "a key of one HashByRev", Hash},
      {"restore", "a key of opening the store (index checkpoint)", Restore},
      {"restore-rebuild", "a key of opening the store, rebuilding the index", RestoreRebuild},
  };
  return kAllWorkloads;
}

}  // namespace revkv::bench
