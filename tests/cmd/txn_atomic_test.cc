// A write through the CLI's apply layer (Txn, Put) is all or nothing: a txn
// whose later op fails leaves the store exactly as it was -- its revision,
// its history (the hash of every record) and every key.
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "etcdkv/apply.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/txn_request.h"
#include "etcdkv/txn_state.h"
#include "gtest/gtest.h"
#include "mvcc/errors.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"

namespace revkv::cli {
namespace {

// The request semantics under test are etcdkv's (the command line's
// parsing feeds them).
using namespace ::revkv::etcdkv;  // NOLINT(build/namespaces)

TxnRequest Parse(const std::string& text) {
  std::istringstream in(text);
  absl::StatusOr<TxnRequest> t = ReadTxn(in);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : TxnRequest{};
}

// What a failed write must leave alone.
struct StoreState {
  int64_t rev = 0;
  uint32_t hash = 0;
  std::vector<mvcc::KeyValue> kvs;
  bool operator==(const StoreState&) const = default;
};

StoreState StateOf(mvcc::Store* store) {
  StoreState s;
  s.rev = store->Rev();
  absl::StatusOr<mvcc::HashResult> h = store->HashByRev(0);
  EXPECT_TRUE(h.ok()) << h.status();
  if (h.ok()) s.hash = h->hash;
  const std::string all(1, '\0');
  absl::StatusOr<mvcc::RangeResult> r = store->Range(all, all);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok()) s.kvs = r->kvs;
  return s;
}

class TxnAtomic : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = backend::NewTmpBackend();
    ASSERT_TRUE(b.ok());
    backend_ = std::move(*b);
  }
  void OpenStore() {
    auto s = mvcc::Store::Open(backend_.get());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  // Runs `txn`, which must fail with `message` (exit code 1), and checks
  // that the store did not change.
  void ExpectFailsAndChangesNothing(const std::string& txn, const std::string& message) {
    const StoreState before = StateOf(store_.get());
    absl::StatusOr<TxnResponse> r = Txn(store_.get(), Parse(txn));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(), message);
    EXPECT_EQ(ExitCodeOf(r.status()), 1);
    EXPECT_EQ(StateOf(store_.get()), before) << txn;
  }
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<mvcc::Store> store_;
};

constexpr char kKeyNotFound[] = "etcdserver: key not found";

// etcd checks --ignore-value against the store before the txn; a del of
// the txn that ends in "\0" (--from-key, "" --prefix) conflicts with no put,
// so it can remove the key first (etcd 3.4.23 then panics).
TEST_F(TxnAtomic, IgnoreValuePutOfAKeyAnEarlierFromKeyDelRemovedAppliesNothing) {
  OpenStore();
  ASSERT_TRUE(store_->Put("b", "1").ok());
  ASSERT_TRUE(store_->Put("c", "2").ok());
  ExpectFailsAndChangesNothing("\ndel a --from-key\nput b --ignore-value\n\n\n", kKeyNotFound);
  ExpectFailsAndChangesNothing("\nput n 1\ndel \"\" --prefix\nput b --ignore-value\n\n\n",
                               kKeyNotFound);
  ExpectFailsAndChangesNothing("\nput n 1\nget b\ndel \"\" --from-key --prev-kv\nget c\n"
                               "put c --ignore-value --prev-kv\n\n\n",
                               kKeyNotFound);
}

TEST_F(TxnAtomic, TheFailureBranchIsAllOrNothingToo) {
  OpenStore();
  ASSERT_TRUE(store_->Put("b", "1").ok());
  ExpectFailsAndChangesNothing(
      "value(\"b\") = \"nope\"\n\nput ok 1\n\nput x 1\ndel b --from-key\nput b --ignore-value\n\n",
      kKeyNotFound);
}

TEST_F(TxnAtomic, IgnoreValueAfterADelThatMissesTheKeyKeepsItsValue) {
  OpenStore();
  ASSERT_TRUE(store_->Put("b", "1").ok());
  absl::StatusOr<TxnResponse> r =
      Txn(store_.get(), Parse("\ndel c --from-key\nput b --ignore-value --prev-kv\n\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->revision, 3);
  absl::StatusOr<mvcc::RangeResult> b = store_->Range("b", "");
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->kvs.size(), 1u);
  EXPECT_EQ(b->kvs[0].value, "1");
  EXPECT_EQ(b->kvs[0].version, 2);
}

TEST_F(TxnAtomic, EarlierChecksStillFailBeforeAnyWrite) {
  OpenStore();
  ASSERT_TRUE(store_->Put("b", "1").ok());
  ExpectFailsAndChangesNothing("\nput a 1\nget a --rev=3\n\n\n",
                               "etcdserver: mvcc: required revision is a future revision");
  ExpectFailsAndChangesNothing("\nput a 1\nput z --ignore-value\n\n\n", kKeyNotFound);
  ExpectFailsAndChangesNothing("\nput a 1\ndel a\n\n\n",
                               "etcdserver: duplicate key given in txn request");
}

// A store whose last record is at revision INT64_MAX: the next write has no
// revision to take.
TEST_F(TxnAtomic, AWriteAtTheLastRevisionAppliesNothing) {
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafeCreateBucket(mvcc::kKeyBucket).ok());
  const mvcc::KeyValue z{"z", INT64_MAX, INT64_MAX, 1, "v", 0};
  ASSERT_TRUE(tx.UnsafePut(mvcc::kKeyBucket, mvcc::RevisionKey({INT64_MAX, 0}),
                           mvcc::EncodeKeyValue(z))
                  .ok());
  tx.Unlock();
  OpenStore();
  ASSERT_EQ(store_->Rev(), INT64_MAX);
  const StoreState before = StateOf(store_.get());
  for (const char* txn : {"\nget z\nput a 1\n\n\n", "\ndel nosuch\ndel z\n\n\n"}) {
    absl::StatusOr<TxnResponse> r = Txn(store_.get(), Parse(txn));
    ASSERT_FALSE(r.ok()) << txn;
    EXPECT_TRUE(mvcc::IsRevisionExhausted(r.status())) << r.status();
    EXPECT_EQ(ExitCodeOf(r.status()), 1);
  }
  EXPECT_TRUE(mvcc::IsRevisionExhausted(Put(store_.get(), PutRequest{"a", "1", false, false})
                                            .status()));
  EXPECT_EQ(StateOf(store_.get()), before);
  // A txn that changes nothing needs no revision.
  absl::StatusOr<TxnResponse> r = Txn(store_.get(), Parse("\nget z\ndel nosuch\n\n\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->revision, INT64_MAX);
}

// The size check uses the encoder's exact record size (the backend's value
// limit applies to it), computed without encoding a value of up to 4 GiB.
TEST(EncodedRecordSize, EqualsTheEncodedRecordsSize) {
  const std::string big(200000, 'v');
  const std::vector<mvcc::KeyValue> records = {
      {"k", 2, 2, 1, "", 0},
      {"k", 0, 0, 0, "", 0},
      {"key", 127, 128, 16383, "x", 0},
      {std::string(300, 'k'), INT64_MAX, INT64_MAX, INT64_MAX, big, 0},
      {"k", -1, 5, 2, "v", -7},
  };
  for (const mvcc::KeyValue& kv : records) {
    const mvcc::KeyValueView view{kv.key, kv.create_revision, kv.mod_revision, kv.version,
                                  kv.value, kv.lease};
    EXPECT_EQ(EncodedRecordSize(view), mvcc::EncodeKeyValue(kv).size()) << kv.key.size();
  }
}

}  // namespace
}  // namespace revkv::cli
