// etcdctl 3.4.23 against `revkv serve` and against a real etcd 3.4.23 (both
// on loopback; skipped when /usr/bin/etcd or etcdctl is absent): the same
// command sequence -- put, get in all its flag forms, del, txn from stdin,
// compaction and its errors, endpoint hashkv -- must print the same
// normalised JSON, the same last stderr line and exit with the same code.
// endpoint status and member list are server specific: their shape and
// the parts both servers must share are compared. Leases: etcdctl lease
// grant/revoke/keep-alive --once/timetolive (--keys)/list and put --lease,
// with each server's lease ids (etcd's time-based, revkv's 1, 2, ...)
// named L1, L2 in both outputs, and a lease's remaining TTL (which depends
// on timing) masked.
#include <signal.h>

#include <cinttypes>
#include <cstdio>
#include <map>
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

// A step of the lease sequence: {L1}, {L2} in args stand for the server's
// ids; `grant` names the lease the step grants; `fuzzy` masks remaining
// TTLs.
struct LeaseStep {
  std::vector<std::string> args;
  std::string grant = "";
  bool fuzzy = false;
  std::string stdin_data = "";
};

// One server's lease ids by name, and its outputs with the ids named.
class LeaseNames {
 public:
  std::vector<std::string> Expand(std::vector<std::string> args) const {
    for (std::string& a : args) {
      for (const auto& [name, id] : ids_) Replace(a, "{" + name + "}", Hex(id));
    }
    return args;
  }
  std::string Expand(std::string in) const {
    for (const auto& [name, id] : ids_) Replace(in, "{" + name + "}", Hex(id));
    return in;
  }
  // Takes the id `lease <hex> granted ...` reports as `name`.
  bool Capture(const std::string& name, const std::string& out) {
    static const std::regex kGranted("lease ([0-9a-f]+) granted");
    std::smatch m;
    if (!std::regex_search(out, m, kGranted)) return false;
    ids_[name] = int64_t(std::stoull(m[1], nullptr, 16));
    return true;
  }
  std::string Normalise(std::string out, bool fuzzy) const {
    for (const auto& [name, id] : ids_) {
      Replace(out, Hex(id), name);
      for (const char* field : {"\"ID\":", "\"id\":", "\"lease\":"}) {
        Replace(out, field + std::to_string(id) + ",", field + name + ",");
        Replace(out, field + std::to_string(id) + "}", field + name + "}");
      }
    }
    if (fuzzy) {
      out = std::regex_replace(out, std::regex("remaining\\([0-9]+s\\)"), "remaining(Ns)");
      out = std::regex_replace(out, std::regex("\"ttl\":[0-9]+,\"granted-ttl\""),
                               "\"ttl\":N,\"granted-ttl\"");
    }
    return out;
  }

 private:
  static std::string Hex(int64_t id) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, uint64_t(id));
    return buf;
  }
  static void Replace(std::string& s, const std::string& from, const std::string& to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
  }
  std::map<std::string, int64_t> ids_;
};

std::vector<LeaseStep> LeaseSequence() {
  const std::string j = "-w=json";
  return {
      {{"lease", "grant", "600"}, "L1"},
      {{"lease", "grant", "300"}, "L2"},
      {{"put", "k1", "v1", "--lease={L1}"}},
      {{"put", "k2", "v2", "--lease={L1}"}},
      {{j, "put", "k3", "v3", "--lease={L2}"}},
      {{j, "get", "k", "--prefix"}},
      {{"lease", "timetolive", "{L1}"}, "", true},
      {{"lease", "timetolive", "{L2}", "--keys"}, "", true},
      {{j, "lease", "timetolive", "{L2}", "--keys"}, "", true},
      {{"lease", "keep-alive", "--once", "{L1}"}},
      {{j, "lease", "keep-alive", "--once", "{L2}"}},
      {{"lease", "list"}},
      {{j, "lease", "list"}},
      {{"put", "k1", "v1b", "--ignore-lease"}},
      {{"put", "k1", "v1c", "--lease={L2}", "--ignore-lease"}},
      {{"put", "nosuch", "v", "--ignore-lease"}},
      {{"put", "k4", "v4", "--lease=1234abcd"}},
      {{"txn"}, "", false, "\nput t1 x --lease={L2}\nput t2 y --lease=1234abcd\n\n\n"},
      {{j, "txn"}, "", false, "\nput t1 x --lease={L2}\nget t1\n\n\n"},
      {{j, "get", "", "--prefix"}},
      {{"lease", "revoke", "{L2}"}},
      {{j, "get", "", "--prefix"}},
      {{"lease", "timetolive", "{L2}"}},
      {{j, "lease", "timetolive", "{L2}"}},
      {{"lease", "revoke", "{L2}"}},
      {{"lease", "keep-alive", "--once", "{L2}"}},
      {{"put", "k5", "v5", "--lease={L2}"}},
      {{j, "lease", "revoke", "{L1}"}},
      {{j, "get", "", "--prefix"}},
      {{"lease", "list"}},
      // Not endpoint hashkv: the records hold the lease ids, which differ.
  };
}

TEST_F(EtcdctlServeTest, LeasesAsEtcd) {
  LeaseNames etcd_names, revkv_names;
  for (const LeaseStep& step : LeaseSequence()) {
    ProcessResult want = etcd_.Etcdctl(etcd_names.Expand(step.args),
                                       etcd_names.Expand(step.stdin_data));
    ProcessResult got = revkv_.Etcdctl(revkv_names.Expand(step.args),
                                       revkv_names.Expand(step.stdin_data));
    std::string what;
    for (const std::string& a : step.args) what += a + " ";
    if (!step.grant.empty()) {
      ASSERT_TRUE(etcd_names.Capture(step.grant, want.out)) << what << want.out << want.err;
      ASSERT_TRUE(revkv_names.Capture(step.grant, got.out)) << what << got.out << got.err;
    }
    EXPECT_EQ(NormaliseEtcdJson(etcd_names.Normalise(want.out, step.fuzzy)),
              NormaliseEtcdJson(revkv_names.Normalise(got.out, step.fuzzy)))
        << what;
    EXPECT_EQ(want.LastErrLine(), got.LastErrLine()) << what;
    EXPECT_EQ(want.exit_code, got.exit_code) << what;
  }
}

}  // namespace
}  // namespace revkv::testing
