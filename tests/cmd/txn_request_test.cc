// The txn library: parsing etcdctl's txn format, compares, argify, the
// duplicate-key checks, and applying transactions to a store.
#include "cmd/revkv/txn_request.h"

#include <sstream>

#include "backend/backend.h"
#include "etcdkv/apply.h"
#include "cmd/revkv/exit_status.h"
#include "etcdkv/txn_check.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"

namespace revkv::cli {
namespace {

// The request semantics under test are etcdkv's (the command line's
// parsing feeds them).
using namespace ::revkv::etcdkv;  // NOLINT(build/namespaces)

absl::StatusOr<TxnRequest> Parse(const std::string& text) {
  std::istringstream in(text);
  return ReadTxn(in);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(TxnRequest, ThreeSectionsEachEndedByAnEmptyLine) {
  absl::StatusOr<TxnRequest> t = Parse("value(\"a\") = \"1\"\n\nput b x\nget a\n\ndel c\n\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->compares.size(), 1u);
  EXPECT_EQ(t->success.size(), 2u);
  EXPECT_EQ(t->failure.size(), 1u);
}

TEST(TxnRequest, MissingLastEmptyLineIsEofWithExitCode3) {
  absl::StatusOr<TxnRequest> t = Parse("\nput b x\n\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(Message(t.status()), "EOF");
  EXPECT_EQ(ExitCodeOf(t.status()), 3);
}

TEST(TxnRequest, LastLineWithoutNewlineIsEof) {
  EXPECT_TRUE(Parse("\n\n\nx").ok());  // complete before the junk
  EXPECT_EQ(Message(Parse("\n\n").status()), "EOF");
}

TEST(TxnRequest, UnquotedCompareOperandIsMalformed) {
  absl::Status s = Parse("value(\"y\") = 2\n\n\n\n").status();
  EXPECT_EQ(Message(s), "malformed comparison: value(\"y\") = 2; got value(\"y\") = \"\"");
  EXPECT_EQ(ExitCodeOf(s), 3);
}

TEST(TxnRequest, CompareWithoutSpacesIsMalformed) {
  EXPECT_EQ(Message(Parse("value(\"q\")==1\n\n\n\n").status()),
            "malformed comparison: value(\"q\")==1; got value(\"q\")  \"\"");
}

TEST(TxnRequest, UnknownCompareTarget) {
  EXPECT_EQ(Message(Parse("bogus(\"y\") > \"1\"\n\n\n\n").status()),
            "malformed comparison: bogus(\"y\") > \"1\" (unknown target bogus)");
}

TEST(TxnRequest, NonNumericVersionOperand) {
  EXPECT_EQ(Message(Parse("ver(\"q\") = \"x\"\n\n\n\n").status()),
            "invalid txn compare request: ver(\"q\") = \"x\"");
}

TEST(TxnRequest, UnknownOpLine) {
  absl::Status s = Parse("\nfrob y\n\n\n").status();
  EXPECT_EQ(Message(s), "invalid txn request: frob y");
  EXPECT_EQ(ExitCodeOf(s), 3);
  EXPECT_EQ(Message(Parse("\nfrob\n\n\n").status()), "invalid txn compare request: frob");
}

TEST(TxnRequest, OpCommandWordsMatchByPrefix) {
  absl::StatusOr<TxnRequest> t = Parse("\np q 1\n\n\n");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_TRUE(std::holds_alternative<PutRequest>(t->success[0]));
}

TEST(TxnRequest, PutWithoutValueIsBadArgs) {
  absl::Status s = Parse("\nput a\n\n\n").status();
  EXPECT_EQ(Message(s), "put command needs 1 argument and input from stdin or 2 arguments");
  EXPECT_EQ(ExitCodeOf(s), 128);
}

TEST(Argify, QuotedWordsAndEtcdctlSingleQuoteSlicing) {
  auto w = Argify("put \"a\\x41 b\" 'abcd'");
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ((*w)[1], "aA b");
  EXPECT_EQ((*w)[2], "a");  // etcdctl slices [1 : len(args)-1]
}

RequestOp PutOp(const std::string& k) { return PutRequest{k, "v", false, false}; }
RequestOp DelOp(const std::string& k, const std::string& end) { return DeleteRequest{k, end, false}; }

TEST(Duplicates, SameKeyPutTwice) {
  EXPECT_EQ(Message(CheckDuplicates({PutOp("a"), PutOp("a")})),
            "etcdserver: duplicate key given in txn request");
}

TEST(Duplicates, PutInsideADeleteRange) {
  EXPECT_FALSE(CheckDuplicates({DelOp("a", "c"), PutOp("b")}).ok());
  EXPECT_FALSE(CheckDuplicates({PutOp("b"), DelOp("b", "")}).ok());
  EXPECT_TRUE(CheckDuplicates({DelOp("a", "c"), PutOp("c")}).ok());
}

TEST(Duplicates, FromKeyAndAllKeyDeletesConflictWithNothingAsInEtcd) {
  EXPECT_TRUE(CheckDuplicates({DelOp("a", std::string(1, '\0')), PutOp("b")}).ok());
  EXPECT_TRUE(
      CheckDuplicates({DelOp(std::string(1, '\0'), std::string(1, '\0')), PutOp("b")}).ok());
}

TEST(Duplicates, OverlappingDeletesAreFine) {
  EXPECT_TRUE(CheckDuplicates({DelOp("a", "c"), DelOp("b", "")}).ok());
}

TEST(Duplicates, CheckedInTheBranchThatDoesNotRun) {
  TxnRequest t;
  t.failure = {PutOp("a"), PutOp("a")};
  EXPECT_FALSE(CheckTxnRequest(t).ok());
}

class TxnApply : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = backend::NewTmpBackend();
    ASSERT_TRUE(b.ok());
    backend_ = std::move(*b);
    auto s = mvcc::Store::Open(backend_.get());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
  }
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<mvcc::Store> store_;
};

TEST_F(TxnApply, NestedHeadersShowTheRevisionAtThatPoint) {
  ASSERT_TRUE(store_->Put("c", "1").ok());  // rev 2
  auto t = Parse("\nget c\nput a fa\n\n\n");
  ASSERT_TRUE(t.ok());
  auto r = Txn(store_.get(), *t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<RangeResponse>(r->responses[0]).revision, 2);
  EXPECT_EQ(std::get<PutResponse>(r->responses[1]).revision, 3);
  EXPECT_EQ(r->revision, 3);
}

TEST_F(TxnApply, FailingRevCheckAppliesNothing) {
  auto t = Parse("\nput a 1\nget a --rev=99\n\n\n");
  ASSERT_TRUE(t.ok());
  auto r = Txn(store_.get(), *t);
  EXPECT_EQ(Message(r.status()), "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(store_->Rev(), 1);
}

TEST_F(TxnApply, ValueCompareOnMissingKeyIsFalse) {
  auto t = Parse("value(\"nosuch\") != \"1\"\n\n\nput f 1\n\n");
  ASSERT_TRUE(t.ok());
  auto r = Txn(store_.get(), *t);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(store_->Rev(), 2);
}

TEST_F(TxnApply, OpsSeeEarlierOpsOfTheSameTxn) {
  ASSERT_TRUE(store_->Put("c", "1").ok());  // rev 2
  auto t = Parse("\nput a 1\nget a\ndel c\nget c\n\n\n");
  ASSERT_TRUE(t.ok());
  auto r = Txn(store_.get(), *t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<RangeResponse>(r->responses[1]).kvs.size(), 1u);
  EXPECT_EQ(std::get<RangeResponse>(r->responses[3]).kvs.size(), 0u);
  EXPECT_EQ(r->revision, 3);
}

}  // namespace
}  // namespace revkv::cli
