// CheckDuplicates: etcd's duplicate-key rule for a txn branch, against a
// direct transcription of etcd's interval test (each put against every
// earlier put and every del range), and on branches of 100,000 ops.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/txn_request.h"
#include "etcdkv/txn_check.h"
#include "gtest/gtest.h"

namespace revkv::cli {
namespace {

// The request semantics under test are etcdkv's (the command line's
// parsing feeds them).
using namespace ::revkv::etcdkv;  // NOLINT(build/namespaces)

constexpr char kDuplicate[] = "etcdserver: duplicate key given in txn request";

// etcd's adt.StringAffineComparable: "" is +infinity.
int AffineCompare(const std::string& a, const std::string& b) {
  if (a.empty()) return b.empty() ? 0 : 1;
  if (b.empty()) return -1;
  return a < b ? -1 : (a == b ? 0 : 1);
}

struct Interval {
  std::string begin, end;
};

// adt.Interval.Compare(point, ivl) == 0.
bool Overlaps(const Interval& p, const Interval& x) {
  if (AffineCompare(p.begin, x.begin) < 0 && AffineCompare(p.end, x.begin) <= 0) return false;
  return AffineCompare(p.begin, x.end) < 0;
}

// etcd's checkIntervals, quadratic: the oracle.
bool ReferenceHasDuplicate(const std::vector<RequestOp>& ops) {
  std::vector<Interval> dels;
  for (const RequestOp& op : ops) {
    if (const auto* d = std::get_if<DeleteRequest>(&op)) {
      dels.push_back({d->key, d->end.empty() ? d->key + std::string(1, '\0') : d->end});
    }
  }
  std::vector<std::string> puts;
  for (const RequestOp& op : ops) {
    const auto* p = std::get_if<PutRequest>(&op);
    if (p == nullptr) continue;
    for (const std::string& k : puts) {
      if (k == p->key) return true;
    }
    for (const Interval& d : dels) {
      if (Overlaps({p->key, p->key + std::string(1, '\0')}, d)) return true;
    }
    puts.push_back(p->key);
  }
  return false;
}

RequestOp PutOp(const std::string& k) { return PutRequest{k, "v", false, false}; }
RequestOp DelOp(const std::string& k, const std::string& end) {
  return DeleteRequest{k, end, false};
}
RequestOp GetOp(const std::string& k) {
  RangeRequest r;
  r.key = k;
  return r;
}

TEST(Duplicates, AgreesWithEtcdsIntervalTestOnRandomBranches) {
  const std::vector<std::string> keys = {"",   std::string(1, '\0'), "a", std::string("a\0", 2),
                                         "ab", "b", "ba", "c", "\xff", "\xff\xff"};
  std::mt19937_64 rng(7);
  auto pick = [&](size_t n) { return size_t(rng() % n); };
  int refused = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<RequestOp> ops;
    const size_t n = 1 + pick(6);
    for (size_t i = 0; i < n; ++i) {
      const std::string& k = keys[pick(keys.size())];
      switch (pick(4)) {
        case 0: ops.push_back(PutOp(k)); break;
        case 1: ops.push_back(DelOp(k, "")); break;
        case 2: ops.push_back(DelOp(k, keys[pick(keys.size())])); break;
        default: ops.push_back(GetOp(k)); break;
      }
    }
    const bool want = ReferenceHasDuplicate(ops);
    const absl::Status got = CheckDuplicates(ops);
    ASSERT_EQ(!got.ok(), want) << "round " << round;
    if (want) {
      EXPECT_EQ(got.message(), kDuplicate);
      EXPECT_EQ(ExitCodeOf(got), 1);
      ++refused;
    }
  }
  // Both outcomes were exercised.
  EXPECT_GT(refused, 1000);
  EXPECT_LT(refused, 19000);
}

std::vector<RequestOp> ManyPuts(int n) {
  std::vector<RequestOp> ops;
  for (int i = 0; i < n; ++i) ops.push_back(PutOp(absl::StrFormat("key%06d", i)));
  return ops;
}

TEST(Duplicates, HundredThousandDistinctPutsPass) {
  EXPECT_TRUE(CheckDuplicates(ManyPuts(100000)).ok());
}

TEST(Duplicates, HundredThousandPutsWithOneRepeatedKeyFail) {
  std::vector<RequestOp> ops = ManyPuts(100000);
  ops.push_back(PutOp("key050000"));
  EXPECT_EQ(CheckDuplicates(ops).message(), kDuplicate);
}

TEST(Duplicates, HundredThousandPutsAndDelRangesFailOnlyWhenARangeHoldsAPut) {
  std::vector<RequestOp> ops = ManyPuts(100000);
  // Ranges between the keys hold none of them; --from-key ones hold nothing.
  for (int i = 0; i < 50000; ++i) {
    ops.push_back(DelOp(absl::StrFormat("key%06d/", i), absl::StrFormat("key%06d", i + 1)));
    ops.push_back(DelOp(absl::StrFormat("key%06d", i), std::string(1, '\0')));
  }
  EXPECT_TRUE(CheckDuplicates(ops).ok());
  ops.push_back(DelOp("key099998/", "key099999/"));
  EXPECT_EQ(CheckDuplicates(ops).message(), kDuplicate);
}

}  // namespace
}  // namespace revkv::cli
