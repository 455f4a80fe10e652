// revkv's client mode with several endpoints (`--endpoints=a,b`), against a
// real etcd 3.4.23 and against `revkv serve` (skipped without etcd): etcdctl
// and revkv run the same command against the same endpoints and must print
// the same stdout, the same stderr and exit with the same code. A dead
// endpoint (a free loopback port nobody listens on) first in the list
// fails no KV command; endpoint status / hashkv / health and defrag print
// one row per endpoint and report the dead one as etcdctl does; --cluster
// visits the member list's client URLs.
#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/etcd_and_serve_suite.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

// A health check's time and the width of its table column; and its rows
// sorted: etcdctl prints them as the checks end, which races.
std::string NoTook(std::string s) {
  static const std::regex kTook("[0-9.]+(ns|µs|ms|s)\\b");
  static const std::regex kRuns("-+| +");
  s = std::regex_replace(std::regex_replace(s, kTook, "D"), kRuns, " ");
  std::vector<std::string> lines = absl::StrSplit(s, '\n');
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n");
}

class ClientModeEndpointsTest : public EtcdAndServeSuite {
 protected:
  void SetUp() override {
    EtcdAndServeSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    dead_ = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  }

  // `args` through etcdctl and through revkv: the same stdout, stderr and
  // exit code after `norm`.
  static void Same(const std::vector<std::string>& args,
                   const std::function<std::string(std::string)>& norm = {}) {
    const ProcessResult want = RunTool("/usr/bin/etcdctl", args);
    const ProcessResult got = RunTool(RevkvPath(), args);
    auto n = [norm](const std::string& t) { return norm ? norm(t) : t; };
    std::string what;
    for (const std::string& a : args) what += a + " ";
    EXPECT_EQ(n(want.out), n(got.out)) << what;
    EXPECT_EQ(n(NoClientLog(want.err)), n(got.err)) << what;
    EXPECT_EQ(want.exit_code, got.exit_code) << what;
  }

  std::vector<std::string> Live() const { return {etcd_->endpoint(), revkv_->address()}; }

  std::string dead_;
};

TEST_F(ClientModeEndpointsTest, ADeadFirstEndpointFailsNoCommand) {
  for (const std::string& live : Live()) {
    const std::string eps = "--endpoints=" + dead_ + "," + live;
    Same({eps, "put", "multi", "1"});
    Same({eps, "-w", "json", "get", "multi"}, NormaliseEtcdJson);
    Same({eps, "get", "multi", "--consistency=s"});
    Same({eps, "del", "nosuch"});
    // A host name among the endpoints (resolved by revkv itself).
    Same({"--endpoints=" + dead_ + ",localhost:" + live.substr(live.rfind(':') + 1), "get",
          "multi"});
  }
  // Every endpoint dead: etcdctl's timeout.
  Same({"--endpoints=" + dead_ + "," + dead_, "--command-timeout=500ms", "get", "multi"});
}

TEST_F(ClientModeEndpointsTest, OneRowPerEndpoint) {
  for (const std::string& live : Live()) {
    // The live endpoint twice (once as a URL) and a dead one between.
    const std::string eps = "--endpoints=" + live + "," + dead_ + ",http://" + live;
    // Every output format against etcd; JSON (every field) against revkv
    // serve. Each command waits out --command-timeout on the dead endpoint.
    const std::vector<const char*> formats =
        live == Live()[0] ? std::vector<const char*>{"simple", "json", "fields", "table"}
                          : std::vector<const char*>{"json"};
    for (const char* f : formats) {
      Same({eps, "--command-timeout=500ms", "-w", f, "endpoint", "status"});
      Same({eps, "--command-timeout=500ms", "-w", f, "endpoint", "hashkv"});
      // One live endpoint: the order of two that answer races.
      Same({"--endpoints=" + live + "," + dead_, "--command-timeout=500ms", "-w", f, "endpoint",
            "health"},
           NoTook);
    }
    Same({eps, "--command-timeout=500ms", "defrag"});
    Same({"--endpoints=" + live + ",http://" + live, "-w", "json", "endpoint", "status"});
    Same({"--endpoints=" + live + ",http://" + live, "defrag"});
  }
}

TEST_F(ClientModeEndpointsTest, ClusterUsesTheMemberList) {
  for (const std::string& live : Live()) {
    // revkv serve lists the client URL it advertises by default, which
    // nobody answers here: a short timeout.
    const std::string eps = "--endpoints=" + dead_ + "," + live;
    const std::string t = "--command-timeout=500ms";
    Same({eps, t, "-w", "json", "endpoint", "status", "--cluster"});
    Same({eps, t, "endpoint", "hashkv", "--cluster"});
    Same({eps, t, "endpoint", "health", "--cluster"}, NoTook);
    Same({eps, t, "defrag", "--cluster"});
  }
  Same({"--endpoints=" + dead_, "--command-timeout=500ms", "endpoint", "status", "--cluster"});
}

}  // namespace
}  // namespace revkv::testing
