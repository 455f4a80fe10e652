// revkv's client mode (`revkv --endpoints=URL put/get/del/txn/compaction`
// and `endpoint hashkv`,
// cmd/revkv/remote_kv.h) against a real etcd 3.4.23 and against `revkv
// serve` (skipped without etcd). Three servers get the same command
// sequence: etcd driven by etcdctl (the reference), a second etcd driven by
// revkv, and revkv serve driven by revkv. Every step must print the same
// normalised JSON (and, for some, the same simple output), the same last
// stderr line and exit with the same code. Also: an endpoint nobody answers
// fails as etcdctl does ("context deadline exceeded", exit 1, after
// --command-timeout); a command without a client mode names the data
// directory it needs; --data-dir still wins over --endpoints.
#include <chrono>
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
  Step(std::vector<std::string> a, std::string i = "") : args(std::move(a)), in(std::move(i)) {}
  std::vector<std::string> args;
  std::string in;
};

std::vector<Step> Sequence() {
  return {
      {{"put", "a", "1"}},
      {{"put", "a", "2", "--prev-kv"}},
      {{"put", "a/b", "x"}},
      {{"put", "a/c", "y"}},
      {{"put", "b", "zz"}},
      {{"put", "e", ""}},
      {{"put", "", "x"}},
      {{"put", "a", "3", "--ignore-value"}},
      {{"put", "nosuch", "--ignore-value"}},
      {{"get", "a"}},
      {{"get", "nosuch"}},
      {{"get", "a", "--prefix"}},
      {{"get", "a", "b"}},
      {{"get", "a", "--from-key"}},
      {{"get", "", "--prefix", "--limit=1"}},
      {{"get", "a", "--prefix", "--keys-only"}},
      {{"get", "a", "--rev=2"}},
      {{"get", "a", "--rev=1000"}},
      {{"get", "", "--prefix", "--sort-by=VALUE", "--order=DESCEND"}},
      {{"get", "", "--prefix", "--sort-by=MODIFY", "--limit=2"}},
      {{"get", "", "--prefix", "--sort-by=CREATE", "--order=ASCEND"}},
      {{"get", "", "--prefix", "--sort-by=VERSION"}},
      {{"get", "", "--prefix", "--consistency=s"}},
      {{"del", "nosuch"}},
      {{"del", "a/b", "--prev-kv"}},
      {{"del", ""}},
      {{"txn"}, "value(\"a\") = \"2\"\n\nput t1 v1\nget a\ndel b --prev-kv\n\nput t2 v2\n\n"},
      {{"txn"}, "value(\"a\") = \"nope\"\n\nput t1 v1\n\nput t2 v2\nget t1\n\n"},
      {{"txn"}, "version(\"a\") > \"1\"\nmod(\"a\") < \"100\"\ncreate(\"a\") != \"0\"\n\nget a --prefix\n\n\n"},
      {{"txn"}, "\nput d 1\nput d 2\n\n\n"},
      {{"txn"}, "\nget a --rev=1000\n\n\n"},
      {{"txn"}, "\n\n\n"},
      {{"del", "a", "--prefix", "--prev-kv"}},
      {{"put", "a", "again"}},
      {{"compaction", "4"}},
      {{"compaction", "4"}},
      {{"compaction", "1000"}},
      {{"compaction", "5", "--physical"}},
      {{"get", "a", "--rev=3"}},
      {{"get", "a", "--rev=5"}},
      {{"get", "", "--prefix"}},
      {{"endpoint", "hashkv"}},
      {{"endpoint", "hashkv", "--rev=5"}},
      {{"endpoint", "hashkv", "--rev=3"}},
      {{"endpoint", "hashkv", "--rev=1000"}},
      {{"del", "", "--from-key"}},
  };
}

std::string What(const Step& s) {
  std::string w;
  for (const std::string& a : s.args) w += a + " ";
  return w;
}

ProcessResult Revkv(const std::string& endpoint, const std::vector<std::string>& args,
                    const std::string& in = "") {
  std::vector<std::string> argv = {RevkvPath(), "--endpoints=" + endpoint};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, in, {"ETCDCTL_API=3"});
}

class ClientModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    std::string error;
    ASSERT_TRUE(reference_.Start(&error)) << error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    ASSERT_TRUE(revkv_.Start(&error)) << error;
  }

  // The step on all three; `json`: -w json and normalised.
  void Check(const Step& step, bool json) {
    std::vector<std::string> args;
    if (json) args = {"-w", "json"};
    args.insert(args.end(), step.args.begin(), step.args.end());
    // The endpoint, which hashkv prints, named alike for all three.
    auto norm = [json](std::string out, const std::string& endpoint) {
      for (size_t at = out.find(endpoint); at != std::string::npos; at = out.find(endpoint, at)) {
        out.replace(at, endpoint.size(), "ENDPOINT");
      }
      return json ? NormaliseEtcdJson(out) : out;
    };
    const ProcessResult want = reference_.Etcdctl(args, step.in);
    const std::string want_out = norm(want.out, reference_.endpoint());
    const std::string want_err = norm(want.LastErrLine(), reference_.endpoint());
    for (const auto& [endpoint, name] :
         {std::pair<std::string, std::string>{etcd_.endpoint(), "revkv->etcd"},
          {revkv_.address(), "revkv->revkv serve"}}) {
      const ProcessResult got = Revkv(endpoint, args, step.in);
      EXPECT_EQ(want_out, norm(got.out, endpoint)) << name << ": " << What(step);
      EXPECT_EQ(want_err, norm(got.LastErrLine(), endpoint)) << name << ": " << What(step);
      EXPECT_EQ(want.exit_code, got.exit_code) << name << ": " << What(step);
    }
  }

  EtcdServer reference_;
  EtcdServer etcd_;
  ServeProcess revkv_;
};

TEST_F(ClientModeTest, SameAnswersAsEtcdctl) {
  for (const Step& step : Sequence()) Check(step, /*json=*/true);
  // The simple format too (it prints what JSON leaves out: values as text).
  for (const Step& step : std::vector<Step>{
           {{"txn"}, "value(\"a\") = \"again\"\n\nput g 1\nget a\n\n\n"},
           {{"put", "h", "1"}},
           {{"get", "", "--prefix"}},
           {{"get", "", "--prefix", "--print-value-only"}},
           {{"del", "g"}},
           {{"compaction", "7"}},
           {{"endpoint", "hashkv"}},
           {{"endpoint", "hashkv", "--rev=8"}},
       }) {
    Check(step, /*json=*/false);
  }
}

TEST(ClientModeNoServerTest, UnansweredEndpointTimesOutAsEtcdctl) {
  const std::string nobody = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  const auto start = std::chrono::steady_clock::now();
  ProcessResult got = Revkv(nobody, {"--command-timeout=1s", "get", "a"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_EQ(got.LastErrLine(), "Error: context deadline exceeded");
  EXPECT_EQ(got.out, "");
  EXPECT_GE(took, std::chrono::milliseconds(900)) << "it gave up before the command timeout";
  EXPECT_LT(took, std::chrono::seconds(30));
}

TEST(ClientModeNoServerTest, CommandsWithoutClientModeNeedADataDirectory) {
  ProcessResult got = Revkv("127.0.0.1:1", {"endpoint", "status"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_NE(got.LastErrLine().find("no data directory"), std::string::npos) << got.err;
  EXPECT_NE(got.LastErrLine().find("--endpoints"), std::string::npos) << got.err;
}

TEST(ClientModeNoServerTest, DataDirWinsOverEndpoints) {
  const std::string dir = NewTempDir("local");
  ProcessResult put = Revkv("127.0.0.1:1", {"--data-dir", dir, "put", "k", "v"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n");
  EXPECT_NE(put.err.find("Note: ignoring --endpoints"), std::string::npos) << put.err;
  ProcessResult get = Revkv("127.0.0.1:1", {"--data-dir", dir, "get", "k"});
  EXPECT_EQ(get.out, "k\nv\n");
}

}  // namespace
}  // namespace revkv::testing
