// watch -i (interactive) in revkv's client mode against etcdctl 3.4.23,
// against a real etcd and against revkv serve (skipped without etcd): the
// same stdin through both gives the same stdout, stderr and exit code.
//   - stdin that ends: the "Invalid command" lines, then "Error reading
//     watch request line: EOF" and exit 3; a flag error or "--" without a
//     command ends it with exit 128;
//   - stdin held open until both printed what is expected (bounded), then
//     closed: a watcher over history with --prefix/--prev-kv and an exec
//     command, and two watchers answering one "progress" line each.
#include <signal.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/background_process.h"
#include "tests/server/etcd_and_serve_suite.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

class ClientModeWatchTest : public EtcdAndServeSuite {
 protected:
  static std::vector<std::string> Endpoints() { return {etcd_->endpoint(), revkv_->address()}; }

  // Tool i (0: etcdctl, 1: revkv) at `endpoint` with `args`, and its
  // environment: `env` and ETCDCTL_API=3.
  static std::vector<std::string> Argv(int i, const std::string& endpoint,
                                       const std::vector<std::string>& args) {
    std::vector<std::string> argv = {i == 0 ? "/usr/bin/etcdctl" : RevkvPath(),
                                     "--endpoints=" + endpoint};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  static std::vector<std::string> Vars(std::vector<std::string> env) {
    env.push_back("ETCDCTL_API=3");
    return env;
  }

  // etcdctl and revkv side by side on `endpoint` with `in` on stdin, which
  // then ends: the same stdout, stderr and exit code.
  static void Same(const std::string& endpoint, const std::vector<std::string>& args,
                   const std::string& in, const std::vector<std::string>& env = {}) {
    ProcessResult got[2];
    std::vector<std::thread> runs;
    for (int i = 0; i < 2; ++i) {
      const std::vector<std::string> argv = Argv(i, endpoint, args);
      const std::vector<std::string> vars = Vars(env);
      runs.emplace_back([argv, in, vars, &out = got[i]] { out = RunProcess(argv, in, vars); });
    }
    for (std::thread& t : runs) t.join();
    Expect(got, endpoint + ": " + in);
  }

  // The same with stdin held open until both printed what `done` waits
  // for (bounded); then stdin ends (watch -i), or SIGTERM ends the watch.
  // `sorted`: stdout's lines compared as a set (etcdctl prints each
  // watcher from its own goroutine: their lines interleave as they race).
  static void SameHeld(const std::string& endpoint, const std::vector<std::string>& args,
                       const std::string& in, const std::function<bool(const ProcessResult&)>& done,
                       bool sorted = false, const std::vector<std::string>& env = {}) {
    BackgroundProcess p[2];
    ProcessResult got[2];
    for (int i = 0; i < 2; ++i) {
      const std::vector<std::string> argv = Argv(i, endpoint, args);
      const std::vector<std::string> vars = Vars(env);
      ASSERT_TRUE(p[i].Start(argv, vars));
      ASSERT_TRUE(p[i].WriteStdin(in));
    }
    for (int i = 0; i < 2; ++i) {
      const bool seen = p[i].WaitForOut(
          [&](const std::string& out) { return done({0, out, p[i].Err()}); },
          std::chrono::seconds(10));
      EXPECT_TRUE(seen) << i << ": " << p[i].Out() << p[i].Err();
      // watch -i ends with its stdin; a plain watch runs until a signal.
      if (std::find(args.begin(), args.end(), "-i") != args.end()) {
        p[i].CloseStdin();
        got[i].exit_code = p[i].Wait(std::chrono::seconds(10));
      } else {
        got[i].exit_code = p[i].Stop(SIGTERM, std::chrono::seconds(10));
      }
      got[i].out = p[i].Out();
      got[i].err = p[i].Err();
      if (sorted) {
        std::vector<std::string> lines = absl::StrSplit(got[i].out, '\n');
        std::sort(lines.begin(), lines.end());
        got[i].out = absl::StrJoin(lines, "\n");
      }
    }
    Expect(got, endpoint + ": " + in);
  }

  static void Expect(const ProcessResult (&got)[2], const std::string& what) {
    EXPECT_EQ(got[0].out, got[1].out) << what;
    EXPECT_EQ(NoClientLog(got[0].err), got[1].err) << what;
    EXPECT_EQ(got[0].exit_code, got[1].exit_code) << what;
  }

  static int64_t Revision(const std::string& endpoint) {
    ProcessResult r = RunProcess(
        {"/usr/bin/etcdctl", "--endpoints=" + endpoint, "-w", "json", "get", "nothing"}, "",
        {"ETCDCTL_API=3"});
    std::smatch m;
    static const std::regex kRev("\"revision\":([0-9]+)");
    EXPECT_TRUE(std::regex_search(r.out, m, kRev)) << r.out << r.err;
    return m.empty() ? 0 : std::stoll(m[1]);
  }

};

TEST_F(ClientModeWatchTest, InteractiveLinesUntilStdinEnds) {
  for (const std::string& ep : Endpoints()) {
    // The last line has no newline: etcdctl does not read it.
    Same(ep, {"watch", "-i"},
         "bogus x\n\nwatch\nwatch a b --prefix\nwatch -- echo\nprogress\nfoo");
    Same(ep, {"watch", "-i"}, "watch --rev=zz a\nwatch b\n");
    Same(ep, {"watch", "-i"}, "watch a --\n");
    Same(ep, {"watch", "-i", "--prefix", "ignored"}, "watch --nosuch a\n");
    Same(ep, {"watch", "-i"}, "watch \"a\n");
  }
}

// ETCDCTL_WATCH_KEY / _RANGE_END stand for the key words (and raise no
// "unrecognized environment variable" warning).
TEST_F(ClientModeWatchTest, KeyFromTheEnvironment) {
  const std::vector<std::string> key = {"ETCDCTL_WATCH_KEY=ew"};
  for (const std::string& ep : Endpoints()) {
    Same(ep, {"watch"}, "", {"ETCDCTL_WATCH_RANGE_END=b"});
    Same(ep, {"watch", "a"}, "", key);
    Same(ep, {"watch", "foo", "--", "echo", "hi"}, "", key);
    Same(ep, {"watch", "-i"}, "watch x\n", key);
    Same(ep, {"watch", "-i"}, "watch\nwatch --prev-kv\nwatch -- echo\n", key);
    ASSERT_EQ(RunProcess({"/usr/bin/etcdctl", "--endpoints=" + ep, "put", "ew1", "v"}, "",
                         {"ETCDCTL_API=3"})
                  .exit_code,
              0);
    const std::string from = "--rev=" + std::to_string(Revision(ep));
    SameHeld(
        ep, {"watch", "--prefix", from, "--", "sh", "-c", "echo $ETCD_WATCH_KEY"}, "",
        [](const ProcessResult& r) { return r.out.find("\"ew1\"\n") != std::string::npos; },
        false, key);
    SameHeld(
        ep, {"watch", from}, "",
        [](const ProcessResult& r) { return r.out.find("ew1\nv\n") != std::string::npos; },
        false, {"ETCDCTL_WATCH_KEY=ew", "ETCDCTL_WATCH_RANGE_END=ex"});
  }
}

TEST_F(ClientModeWatchTest, InteractiveWatchersAnswer) {
  for (const std::string& ep : Endpoints()) {
    for (const char* v : {"a", "b"}) {
      ASSERT_EQ(RunProcess({"/usr/bin/etcdctl", "--endpoints=" + ep, "put", "iw1", v}, "",
                           {"ETCDCTL_API=3"})
                    .exit_code,
                0);
    }
    ASSERT_EQ(RunProcess({"/usr/bin/etcdctl", "--endpoints=" + ep, "del", "iw1"}, "",
                         {"ETCDCTL_API=3"})
                  .exit_code,
              0);
    const int64_t rev = Revision(ep);
    const std::string from = "--rev=" + std::to_string(rev - 2);
    const std::string later = "--rev=" + std::to_string(rev + 100);
    for (const char* f : {"simple", "json"}) {
      // The exec command's line for the last event ends the output.
      SameHeld(ep, {"-w", f, "watch", "-i"},
               "watch iw --prefix " + from +
                   " --prev-kv -- sh -c \"echo $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY\"\nbad\n",
               [](const ProcessResult& r) {
                 return r.out.find("\"DELETE\" \"iw1\"") != std::string::npos &&
                        r.err.find("Invalid command bad") != std::string::npos;
               });
      // Two watchers with nothing to tell: each answers the progress line.
      SameHeld(
          ep, {"-w", f, "watch", "-i"},
          "watch iwx " + later + "\nwatch iwy " + later + "\nprogress\n",
          // Two progress lines, each followed by the answer in json.
          [json = std::string(f) == "json"](const ProcessResult& r) {
            return std::count(r.out.begin(), r.out.end(), '\n') == (json ? 4 : 2);
          },
          /*sorted=*/true);
    }
  }
}

}  // namespace
}  // namespace revkv::testing
