// revkv from a CMake (or pkg-config, or plain Make) build: the installed
// headers and lib/librevkv.a, no Bazel. See README.md.
//
//   revkv_example DIR    (DIR: a fresh, empty or missing directory)
//
// Uses revkv::DB (Put, Range at an old revision, a write transaction, Sync,
// Close, a read-only reopen) and the libkv store (RevkvStore::Open, Put, Get,
// AtomicPut). Prints what it does; exits 1 at the first result that is not
// the expected one, 0 after "revkv example: OK".
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "kvstore/config.h"
#include "kvstore/errors.h"
#include "kvstore/kv_pair.h"
#include "kvstore/revkv_store.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace {

bool failed = false;

// Reports a mismatch; the caller returns.
bool Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "MISMATCH: %s\n", what);
    failed = true;
  }
  return ok;
}

bool CheckOk(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "ERROR: %s: %s\n", what, s.ToString().c_str());
    failed = true;
  }
  return s.ok();
}

#define EXPECT(cond)                    \
  do {                                  \
    if (!Check((cond), #cond)) return; \
  } while (0)
#define EXPECT_OK(expr, what)                  \
  do {                                         \
    if (!CheckOk((expr), what)) return;        \
  } while (0)

// revkv::DB: the front door.
void UseDB(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<revkv::DB>> opened = revkv::DB::Open(dir, {});
  EXPECT_OK(opened.status(), "DB::Open");
  revkv::DB& db = **opened;
  std::printf("db: opened %s at revision %lld\n", db.path().c_str(), (long long)db.Rev());

  absl::StatusOr<int64_t> r1 = db.Put("greeting", "hello");
  EXPECT_OK(r1.status(), "Put greeting=hello");
  absl::StatusOr<int64_t> r2 = db.Put("greeting", "world");
  EXPECT_OK(r2.status(), "Put greeting=world");
  std::printf("db: put greeting=hello at %lld, greeting=world at %lld\n", (long long)*r1,
              (long long)*r2);
  EXPECT(*r2 == *r1 + 1);

  // The history: the key as of the first put, and now.
  absl::StatusOr<revkv::mvcc::RangeResult> old = db.Range("greeting", "", {.rev = *r1});
  EXPECT_OK(old.status(), "Range at the first revision");
  EXPECT(old->kvs.size() == 1);
  std::printf("db: greeting at revision %lld = %s\n", (long long)*r1, old->kvs[0].value.c_str());
  EXPECT(old->kvs[0].value == "hello");
  absl::StatusOr<revkv::mvcc::RangeResult> now = db.Range("greeting", "");
  EXPECT_OK(now.status(), "Range now");
  EXPECT(now->kvs.size() == 1);
  std::printf("db: greeting now = %s (version %lld)\n", now->kvs[0].value.c_str(),
              (long long)now->kvs[0].version);
  EXPECT(now->kvs[0].value == "world");
  EXPECT(now->kvs[0].version == 2);

  // A write transaction: its changes share one revision.
  int64_t txn_rev = 0;
  {
    absl::StatusOr<std::unique_ptr<revkv::mvcc::TxnWrite>> txn = db.Write();
    EXPECT_OK(txn.status(), "Write");
    EXPECT_OK((*txn)->Put("fruit/apple", "red").status(), "txn Put apple");
    EXPECT_OK((*txn)->Put("fruit/banana", "yellow").status(), "txn Put banana");
    txn_rev = (*txn)->Rev();
    EXPECT_OK((*txn)->End(), "txn End");
  }
  absl::StatusOr<revkv::mvcc::RangeResult> fruit = db.Range("fruit/", "fruit0");
  EXPECT_OK(fruit.status(), "Range fruit/");
  std::printf("db: txn at revision %lld wrote %lld keys:", (long long)txn_rev,
              (long long)fruit->count);
  for (const revkv::mvcc::KeyValue& kv : fruit->kvs) {
    std::printf(" %s=%s@%lld", kv.key.c_str(), kv.value.c_str(), (long long)kv.mod_revision);
  }
  std::printf("\n");
  EXPECT(txn_rev == *r2 + 1);
  EXPECT(fruit->count == 2 && fruit->kvs.size() == 2);
  EXPECT(fruit->kvs[0].key == "fruit/apple" && fruit->kvs[0].mod_revision == txn_rev);
  EXPECT(fruit->kvs[1].key == "fruit/banana" && fruit->kvs[1].mod_revision == txn_rev);
  EXPECT(db.Rev() == txn_rev);

  EXPECT_OK(db.Sync(), "Sync");
  EXPECT_OK(db.Close(), "Close");

  // Everything is there after a reopen (read-only: nothing is written).
  revkv::Options read_only;
  read_only.read_only = true;
  absl::StatusOr<std::unique_ptr<revkv::DB>> again = revkv::DB::Open(dir, read_only);
  EXPECT_OK(again.status(), "DB::Open read-only");
  std::printf("db: reopened read-only at revision %lld\n", (long long)(*again)->Rev());
  EXPECT((*again)->Rev() == txn_rev);
  absl::StatusOr<revkv::mvcc::RangeResult> kept = (*again)->Range("greeting", "", {.rev = *r1});
  EXPECT_OK(kept.status(), "Range after reopen");
  EXPECT(kept->kvs.size() == 1 && kept->kvs[0].value == "hello");
  EXPECT_OK((*again)->Close(), "Close read-only");
}

// The libkv store (kvstore/store.h) over a single file.
void UseKVStore(const std::string& path) {
  revkv::kvstore::Config config;
  config.connection_timeout = std::chrono::seconds(1);
  config.bucket = "example";
  auto opened = revkv::kvstore::RevkvStore::Open(path, config);
  EXPECT_OK(opened.status(), "RevkvStore::Open");
  revkv::kvstore::RevkvStore& kv = **opened;

  EXPECT_OK(kv.Put("config/name", "revkv"), "kv Put");
  absl::StatusOr<revkv::kvstore::KVPair> name = kv.Get("config/name");
  EXPECT_OK(name.status(), "kv Get");
  std::printf("kv: config/name = %s (index %llu)\n", name->value.c_str(),
              (unsigned long long)name->last_index);
  EXPECT(name->value == "revkv");

  // Compare-and-swap: create, update from the pair read, refuse a stale one.
  absl::StatusOr<revkv::kvstore::KVPair> created = kv.AtomicPut("counter", "1", std::nullopt);
  EXPECT_OK(created.status(), "kv AtomicPut create");
  absl::StatusOr<revkv::kvstore::KVPair> bumped = kv.AtomicPut("counter", "2", *created);
  EXPECT_OK(bumped.status(), "kv AtomicPut update");
  absl::StatusOr<revkv::kvstore::KVPair> stale = kv.AtomicPut("counter", "3", *created);
  std::printf("kv: counter %s@%llu -> %s@%llu; stale AtomicPut: %s\n", created->value.c_str(),
              (unsigned long long)created->last_index, bumped->value.c_str(),
              (unsigned long long)bumped->last_index,
              std::string(stale.status().message()).c_str());
  EXPECT(bumped->last_index > created->last_index);
  EXPECT(revkv::kvstore::IsKeyModified(stale.status()));
  absl::StatusOr<revkv::kvstore::KVPair> counter = kv.Get("counter");
  EXPECT_OK(counter.status(), "kv Get counter");
  EXPECT(counter->value == "2" && counter->last_index == bumped->last_index);
  kv.Close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR   (a fresh directory)\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  UseDB(dir + "/data");
  if (!failed) UseKVStore(dir + "/libkv.db");
  if (failed) return 1;
  std::printf("revkv example: OK\n");
  return 0;
}
