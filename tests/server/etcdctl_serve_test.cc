// etcdctl 3.4.23 against `revkv serve` and against a real etcd 3.4.23 (both
// on loopback; skipped when /usr/bin/etcd or etcdctl is absent): the same
// command sequence -- put, get in all its flag forms, del, txn from stdin,
// compaction and its errors, endpoint hashkv -- must print the same
// normalised JSON, the same last stderr line and exit with the same code.
// endpoint status and member list are server specific: their shape and
// the parts both servers must share are compared.
#include <signal.h>

#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

struct Step {
  Step(std::vector<std::string> a, std::string in = "") : args(std::move(a)), stdin_data(std::move(in)) {}
  std::vector<std::string> args;
  std::string stdin_data;
};

std::vector<Step> Sequence() {
  std::vector<Step> s = {
      {{"put", "a", "1"}},
      {{"put", "a", "2", "--prev-kv"}},
      {{"put", "a/b", "x"}},
      {{"put", "a/c", "y"}},
      {{"put", "b", "zz"}},
      {{"put", "e", ""}},
      {{"put", "", "x"}},
      {{"put", "nosuch-prev", "1", "--prev-kv"}},
      {{"get", "a"}},
      {{"get", "nosuch"}},
      {{"get", "a", "--prefix"}},
      {{"get", "a", "b"}},
      {{"get", "b", "a"}},
      {{"get", "a", "--from-key"}},
      {{"get", "", "--prefix"}},
      {{"get", "", "--from-key"}},
      {{"get", "a", "--prefix", "--limit=1"}},
      {{"get", "a", "--prefix", "--limit=0"}},
      {{"get", "a", "--prefix", "--keys-only"}},
      {{"get", "a", "--rev=2"}},
      {{"get", "a", "--rev=0"}},
      {{"get", "a", "--rev=1000"}},
      {{"get", "", "--prefix", "--sort-by=VALUE"}},
      {{"get", "", "--prefix", "--sort-by=MODIFY", "--order=DESCEND"}},
      {{"get", "", "--prefix", "--sort-by=KEY", "--order=DESCEND", "--limit=1"}},
      {{"get", "", "--prefix", "--sort-by=CREATE", "--limit=2"}},
      {{"get", "", "--prefix", "--order=ASCEND"}},
      {{"get", "", "--prefix", "--sort-by=VERSION", "--order=DESCEND"}},
      {{"get", "", "--prefix", "--consistency=s"}},
      {{"get", ""}},
      {{"del", "nosuch"}},
      {{"del", "a/b"}},
      {{"del", ""}},
      {{"txn"}, "value(\"a\") = \"2\"\n\nput t1 v1\nget a\ndel b\n\nput t2 v2\n\n"},
      {{"txn"}, "value(\"a\") = \"nope\"\n\nput t1 v1\n\nput t2 v2\nget t1\n\n"},
      {{"txn"}, "version(\"a\") > \"1\"\nmod(\"a\") < \"100\"\ncreate(\"a\") != \"0\"\n\nget a --prefix --keys-only\n\n\n"},
      {{"txn"}, "\n\n\n"},
      {{"txn"}, "\nput d 1\nput d 2\n\n\n"},
      {{"txn"}, "\ndel d e\nput d 1\n\n\n"},
      {{"txn"}, "\nget a --rev=1000\n\n\n"},
      {{"txn"}, "\nput d 1 --prev-kv\nget d\ndel d --prev-kv\nget d\n\n\n"},
      {{"txn"}, "value(\"missing\") = \"\"\n\n\nput f 1\n\n"},
      {{"del", "a", "--prefix", "--prev-kv"}},
      {{"put", "a", "again"}},
      {{"endpoint", "hashkv"}},
      {{"compaction", "4"}},
      {{"compaction", "4"}},
      {{"compaction", "3"}},
      {{"compaction", "1000"}},
      {{"compaction", "5", "--physical"}},
      {{"get", "a", "--rev=3"}},
      {{"get", "a", "--rev=5"}},
      {{"endpoint", "hashkv"}},
      {{"endpoint", "hashkv", "--rev=5"}},
      {{"endpoint", "hashkv", "--rev=6"}},
      {{"endpoint", "hashkv", "--rev=1000"}},
      {{"txn"}, "\nget a --rev=2\n\n\n"},
      {{"alarm", "list"}},
      {{"alarm", "disarm"}},
      {{"defrag"}},
      {{"get", "", "--prefix"}},
      {{"del", "", "--from-key", "--prev-kv"}},
      {{"get", "", "--prefix"}},
  };
  return s;
}

// `out` with the server's own address (plain-text answers name it) replaced.
std::string WithoutAddress(std::string out, const std::string& address) {
  for (size_t at = out.find(address); at != std::string::npos; at = out.find(address, at)) {
    out.replace(at, address.size(), "ENDPOINT");
  }
  return out;
}

int64_t HeaderRevision(const std::string& json) {
  static const std::regex kRev("\"revision\":([0-9]+)");
  std::smatch m;
  if (!std::regex_search(json, m, kRev)) return -1;
  return std::stoll(m[1]);
}

class EtcdctlServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    std::string error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    ASSERT_TRUE(revkv_.Start(&error, {"--name", "ref"})) << error;
  }

  EtcdServer etcd_;
  ServeProcess revkv_;
};

TEST_F(EtcdctlServeTest, SameAnswersAsEtcd) {
  for (const Step& step : Sequence()) {
    std::vector<std::string> args = {"-w", "json"};
    args.insert(args.end(), step.args.begin(), step.args.end());
    ProcessResult want = etcd_.Etcdctl(args, step.stdin_data);
    ProcessResult got = revkv_.Etcdctl(args, step.stdin_data);
    std::string what;
    for (const std::string& a : step.args) what += a + " ";
    EXPECT_EQ(NormaliseEtcdJson(WithoutAddress(want.out, etcd_.endpoint())),
              NormaliseEtcdJson(WithoutAddress(got.out, revkv_.address())))
        << what;
    EXPECT_EQ(want.LastErrLine(), got.LastErrLine()) << what;
    EXPECT_EQ(want.exit_code, got.exit_code) << what;
  }
  // The simple (non-JSON) output too, for a txn and a get.
  for (const Step& step : std::vector<Step>{
           {{"txn"}, "value(\"a\") = \"again\"\n\nput g 1\nget a\n\n\n"},
           {{"get", "", "--prefix"}},
           {{"put", "h", "1"}},
           {{"del", "g"}},
       }) {
    ProcessResult want = etcd_.Etcdctl(step.args, step.stdin_data);
    ProcessResult got = revkv_.Etcdctl(step.args, step.stdin_data);
    EXPECT_EQ(want.out, got.out) << step.args[0];
    EXPECT_EQ(want.exit_code, got.exit_code) << step.args[0];
  }
}

TEST_F(EtcdctlServeTest, EndpointStatusAndMemberList) {
  ASSERT_EQ(revkv_.Etcdctl({"put", "k", "v"}).exit_code, 0);
  ASSERT_EQ(etcd_.Etcdctl({"put", "k", "v"}).exit_code, 0);

  ProcessResult want = etcd_.Etcdctl({"-w", "json", "endpoint", "status"});
  ProcessResult got = revkv_.Etcdctl({"-w", "json", "endpoint", "status"});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(HeaderRevision(want.out), HeaderRevision(got.out)) << got.out;
  // The fields etcd fills for a single member, revkv fills too.
  for (const char* field : {"\"version\":\"3.4.23\"", "\"dbSize\":", "\"leader\":", "\"raftIndex\":",
                            "\"raftTerm\":2", "\"raftAppliedIndex\":", "\"dbSizeInUse\":"}) {
    EXPECT_NE(want.out.find(field), std::string::npos) << field << " in etcd's " << want.out;
    EXPECT_NE(got.out.find(field), std::string::npos) << field << " in revkv's " << got.out;
  }
  // The leader is the member itself.
  static const std::regex kMember("\"member_id\":([0-9]+)");
  static const std::regex kLeader("\"leader\":([0-9]+)");
  std::smatch m1, m2;
  ASSERT_TRUE(std::regex_search(got.out, m1, kMember)) << got.out;
  ASSERT_TRUE(std::regex_search(got.out, m2, kLeader)) << got.out;
  EXPECT_EQ(m1[1], m2[1]);

  ProcessResult wl = etcd_.Etcdctl({"-w", "json", "member", "list"});
  ProcessResult gl = revkv_.Etcdctl({"-w", "json", "member", "list"});
  ASSERT_EQ(wl.exit_code, 0) << wl.err;
  ASSERT_EQ(gl.exit_code, 0) << gl.err;
  static const std::regex kName("\"name\":\"([^\"]*)\"");
  std::smatch n1, n2;
  ASSERT_TRUE(std::regex_search(wl.out, n1, kName)) << wl.out;
  ASSERT_TRUE(std::regex_search(gl.out, n2, kName)) << gl.out;
  EXPECT_EQ(n1[1], n2[1]);
  EXPECT_EQ(HeaderRevision(wl.out), -1) << "etcd's cluster header has no revision";
  EXPECT_EQ(HeaderRevision(gl.out), -1) << gl.out;
  ProcessResult table = revkv_.Etcdctl({"member", "list"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(", started, ref, "), std::string::npos) << table.out;
}

}  // namespace
}  // namespace revkv::testing
