// LocalStore: dKV's local (single-node) IStore over a revkv mvcc store
// (dKV's lstore), with expiry kept in the store and a background sweeper.
//
// Layout: key k is the mvcc key prefix + k (options.prefix, "dkv/" by
// default); its value is an Entry (entry.h): expiry times, then the value.
// Every call is one mvcc transaction; conditional ones (SetEIfUnset,
// Expire) read and write inside one TxnWrite, so they are atomic.
//
// Deletion: a key past its delete time reads as absent at once; the sweeper
// removes it with an ordinary mvcc delete (a tombstone revision), so history
// and HashByRev stay consistent. The sweeper keeps a queue of delete times
// in memory, rebuilt at open by scanning the prefix (O(keys)): keys whose
// time came while the store was closed are removed right after open. It
// sleeps until the earliest delete time by the clock (options.clock), wakes
// on an earlier one being written and on jumps of a FakeClock; SweepNow
// sweeps in the calling thread, after any sweep already running.
//
// Durability is the backend's: writes are committed in its batches, and at
// Close of an owning factory.
//
// Thread-safety: thread-safe.
#ifndef REVKV_KVSTORE_DKV_LOCAL_STORE_H_
#define REVKV_KVSTORE_DKV_LOCAL_STORE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/close_gate.h"
#include "kvstore/dkv/clock.h"
#include "kvstore/dkv/db_factory.h"
#include "kvstore/dkv/entry.h"
#include "kvstore/dkv/istore.h"
#include "mvcc/store.h"

namespace revkv::kvstore::dkv {

struct LocalStoreOptions {
  // Where time comes from; null: SystemClock(). Not owned; must outlive the
  // store.
  Clock* clock = nullptr;
  // The mvcc key prefix of this store's keys.
  std::string prefix = "dkv/";
  // Keys deleted per sweeper transaction.
  int64_t sweep_batch = 1000;
  // Run the background sweeper (else only SweepNow removes keys).
  bool background_sweeper = true;
  // After a failed sweep, the sweeper retries after this long (real time).
  Millis sweep_retry{1000};
};

class LocalStore final : public IStore {
 public:
  // Builds the store over factory()'s database (dKV's NewLocalStore).
  static absl::StatusOr<std::unique_ptr<LocalStore>> Open(const DBFactory& factory,
                                                          LocalStoreOptions options = {});
  // Close()s.
  ~LocalStore() override;

  absl::Status Set(std::string_view key, std::string_view value) override;
  absl::Status SetE(std::string_view key, std::string_view value, Millis expire_in,
                    Millis delete_in) override;
  absl::Status SetEIfUnset(std::string_view key, std::string_view value, Millis expire_in,
                           Millis delete_in) override;
  absl::Status Expire(std::string_view key) override;
  absl::Status Delete(std::string_view key) override;
  absl::StatusOr<GetResult> Get(std::string_view key) override;
  absl::StatusOr<bool> Has(std::string_view key) override;
  absl::StatusOr<DatabaseInfo> GetDBInfo() override;

  // Removes every key whose delete time is <= the clock's Now(), after any
  // sweep already running. Returns how many keys this call removed.
  absl::StatusOr<int64_t> SweepNow();

  // Stops the sweeper and releases the database (its owner, if the factory
  // gave one). Later calls return kInvalidOperation. Idempotent.
  void Close();

 private:
  using Due = std::pair<Millis, std::string>;  // delete time, user key

  LocalStore(DB db, LocalStoreOptions options);
  absl::Status Restore();
  // Writes (key, e) unless `only_if_unset` and the key is live.
  absl::Status Write(std::string_view key, Entry e, bool only_if_unset);
  absl::StatusOr<Entry> Decode(const mvcc::KeyValue& kv);
  std::string StoreKey(std::string_view key) const { return prefix_ + std::string(key); }
  void Schedule(Millis delete_at, std::string_view key);
  absl::StatusOr<int64_t> Sweep();
  void SweeperLoop();

  DB db_;
  mvcc::Store* store_;
  Clock* clock_;
  const std::string prefix_;
  const LocalStoreOptions options_;

  util::CloseGate gate_;

  // One sweep at a time (the sweeper's and SweepNow's). Taken before mu_.
  std::mutex sweep_mu_;

  // The delete queue and the sweeper's state. Never held while waiting for
  // a TxnWrite.
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;  // guarded by mu_
  bool kicked_ = false;   // guarded by mu_
  bool stop_ = false;     // guarded by mu_
  int64_t swept_ = 0;     // guarded by mu_
  uint64_t observer_ = 0;
  std::thread sweeper_;
};

// dKV's NewLocalStore, as the interface.
absl::StatusOr<std::unique_ptr<IStore>> NewLocalStore(const DBFactory& factory,
                                                      LocalStoreOptions options = {});

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_LOCAL_STORE_H_
