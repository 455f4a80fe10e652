// Txn works a transaction out on a TxnState (the store before the txn with
// the txn's writes laid over it) and writes afterwards. Here seeded random
// transactions run both through Txn and, on a second store, op by op
// straight on mvcc's TxnWrite (reads then see the txn's writes through the
// backend): the responses, revisions and stored histories must be equal.
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "etcdkv/apply.h"
#include "etcdkv/execution.h"
#include "cmd/revkv/printer.h"
#include "cmd/revkv/txn_request.h"
#include "etcdkv/txn_check.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"

namespace revkv::cli {
namespace {

// The request semantics under test are etcdkv's (the command line's
// parsing feeds them).
using namespace ::revkv::etcdkv;  // NOLINT(build/namespaces)

// The transaction op by op on the TxnWrite. No --ignore-value: that is the
// one op that can fail here after earlier writes (see txn_atomic_test).
absl::StatusOr<TxnResponse> OnTxnWrite(mvcc::Store* store, const TxnRequest& r) {
  if (absl::Status s = CheckTxnRequest(r); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = store->Write();
  if (!w.ok()) return w.status();
  mvcc::TxnWrite* txn = w->get();
  TxnResponse resp;
  resp.succeeded = true;
  for (const Compare& c : r.compares) resp.succeeded = resp.succeeded && *EvalCompare(txn, c);
  const std::vector<RequestOp>& ops = resp.succeeded ? r.success : r.failure;
  for (const RequestOp& op : ops) {
    const auto* g = std::get_if<RangeRequest>(&op);
    if (g != nullptr && g->rev > txn->Rev()) return ServerError(mvcc::ErrFutureRev());
    if (g != nullptr && g->rev != 0 && g->rev < txn->FirstRev()) {
      return ServerError(mvcc::ErrCompacted());
    }
  }
  auto read = [txn](std::string_view k, std::string_view e, const mvcc::RangeOptions& o) {
    return txn->Range(k, e, o);
  };
  for (const RequestOp& op : ops) {
    if (const auto* g = std::get_if<RangeRequest>(&op)) {
      absl::StatusOr<RangeResponse> rr = ApplyRange(read, *g);
      if (!rr.ok()) return rr.status();
      resp.responses.emplace_back(std::move(*rr));
    } else if (const auto* p = std::get_if<PutRequest>(&op)) {
      PutResponse pr;
      absl::StatusOr<mvcc::RangeResult> prev = txn->Range(p->key, "", {});
      if (p->prev_kv && !prev->kvs.empty()) pr.prev_kv = prev->kvs[0];
      pr.revision = *txn->Put(p->key, p->value);
      resp.responses.emplace_back(std::move(pr));
    } else {
      const auto& d = std::get<DeleteRequest>(op);
      DeleteResponse dr;
      if (d.prev_kv) dr.prev_kvs = txn->Range(d.key, d.end, {})->kvs;
      dr.deleted = *txn->DeleteRange(d.key, d.end);
      dr.revision = txn->Rev();
      resp.responses.emplace_back(std::move(dr));
    }
  }
  resp.revision = txn->Rev();
  if (absl::Status s = txn->End(); !s.ok()) return s;
  return resp;
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  std::string Txn(int64_t rev) {
    std::string in;
    for (int i = Pick(3); i > 0; --i) {
      in += Pick(2) ? "value(\"" + Key() + "\") = \"" + Value() + "\"\n"
                    : "version(\"" + Key() + "\") > \"" + std::to_string(Pick(3)) + "\"\n";
    }
    for (int branch = 0; branch < 2; ++branch) {
      in += "\n";
      for (int i = Pick(9); i > 0; --i) in += Op(rev) + "\n";
    }
    return in + "\n";
  }

 private:
  int Pick(int n) { return int(rng_() % uint64_t(n)); }
  std::string Key() {
    static const char* kKeys[] = {"a", "a/b", "a/c", "b", "b/x", "c", "k1", "k2", "z"};
    return kKeys[Pick(9)];
  }
  std::string Value() {
    static const char* kValues[] = {"1", "2", "v1", "x", "zz"};
    return kValues[Pick(5)];
  }
  std::string RangeShape() {
    switch (Pick(5)) {
      case 1: return " " + Key();
      case 2: return " --prefix";
      case 3: return " --from-key";
      default: return "";
    }
  }
  std::string Op(int64_t rev) {
    const int k = Pick(3);
    if (k == 0) return "put " + Key() + " " + Value() + (Pick(3) == 0 ? " --prev-kv" : "");
    if (k == 1) {
      std::string s = "get " + (Pick(8) == 0 ? std::string("\"\" --prefix") : Key() + RangeShape());
      if (Pick(3) == 0) s += " --limit=" + std::to_string(Pick(4));
      if (Pick(4) == 0) s += " --rev=" + std::to_string(1 + Pick(int(rev)));
      if (Pick(5) == 0) s += " --count-only";
      if (Pick(5) == 0) s += " --keys-only";
      if (Pick(5) == 0) s += " --sort-by=VERSION --order=DESCEND";
      return s;
    }
    std::string s = "del " + (Pick(10) == 0 ? std::string("\"\" --from-key") : Key() + RangeShape());
    return s + (Pick(3) == 0 ? " --prev-kv" : "");
  }

  std::mt19937_64 rng_;
};

std::unique_ptr<mvcc::Store> OpenStore(backend::Backend* b) {
  auto s = mvcc::Store::Open(b);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(TxnState, RandomTransactionsAnswerAsOpByOpOnTheTxnWrite) {
  auto ba = backend::NewTmpBackend();
  auto bb = backend::NewTmpBackend();
  ASSERT_TRUE(ba.ok() && bb.ok());
  std::unique_ptr<mvcc::Store> a = OpenStore(ba->get()), b = OpenStore(bb->get());
  ASSERT_TRUE(a && b);
  Generator gen(11);
  int ok = 0, failed = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = gen.Txn(a->Rev());
    std::istringstream in(text);
    absl::StatusOr<TxnRequest> req = ReadTxn(in);
    ASSERT_TRUE(req.ok()) << text;
    absl::StatusOr<TxnResponse> got = Txn(a.get(), *req);
    absl::StatusOr<TxnResponse> want = OnTxnWrite(b.get(), *req);
    ASSERT_EQ(got.ok(), want.ok()) << text << got.status() << want.status();
    if (got.ok()) {
      ASSERT_EQ(*PrintTxn(Format::kJson, *got), *PrintTxn(Format::kJson, *want)) << text;
      ++ok;
    } else {
      ASSERT_EQ(got.status().message(), want.status().message()) << text;
      ++failed;
    }
    ASSERT_EQ(a->Rev(), b->Rev()) << text;
    ASSERT_EQ(a->HashByRev(0)->hash, b->HashByRev(0)->hash) << i << "\n" << text;
    if (i % 500 == 499) {
      ASSERT_TRUE(a->Compact(a->Rev() - 3).ok());
      ASSERT_TRUE(b->Compact(b->Rev() - 3).ok());
      ASSERT_TRUE(a->WaitCompaction().ok());
      ASSERT_TRUE(b->WaitCompaction().ok());
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(ok, 1000);
  EXPECT_GT(failed, 100);
}

}  // namespace
}  // namespace revkv::cli
