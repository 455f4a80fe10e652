// EtcdAndServeSuite: a GoogleTest fixture whose suite shares one real etcd
// and one `revkv serve` on loopback free ports, started before its first
// test and stopped after its last (starting them is most of a client-mode
// test's time). A test is skipped when etcd is not installed, and fails
// when either server did not start.
//
// Also what the client-mode tests share: running a tool with etcdctl's
// API version, and dropping etcdctl's client log lines.
//
// Thread-safety: GoogleTest's main thread only; suites run one at a time.
#ifndef REVKV_TESTS_SERVER_ETCD_AND_SERVE_SUITE_H_
#define REVKV_TESTS_SERVER_ETCD_AND_SERVE_SUITE_H_

#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {

// `tool` (etcdctl or revkv) with `args`, ETCDCTL_API=3 set.
inline ProcessResult RunTool(const std::string& tool, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {tool};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "", {"ETCDCTL_API=3"});
}

// `err` without etcdctl's client log: a JSON warning line per failed
// attempt, which revkv does not print. The lines either prints itself stay.
inline std::string NoClientLog(const std::string& err) {
  static const std::regex kLog("\\{\"level\":[^\n]*\n");
  return std::regex_replace(err, kLog, "");
}

class EtcdAndServeSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!EtcdServer::Available()) return;
    etcd_ = new EtcdServer;
    revkv_ = new ServeProcess;
    std::string error;
    if (!etcd_->Start(&error) || !revkv_->Start(&error)) start_error_ = new std::string(error);
  }
  static void TearDownTestSuite() {
    delete etcd_;
    delete revkv_;
    delete start_error_;
    etcd_ = nullptr;
    revkv_ = nullptr;
    start_error_ = nullptr;
  }
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
  }

  static inline EtcdServer* etcd_ = nullptr;
  static inline ServeProcess* revkv_ = nullptr;
  static inline std::string* start_error_ = nullptr;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_ETCD_AND_SERVE_SUITE_H_
