// Test helper: runs a program with arguments and stdin, capturing stdout,
// stderr and the exit code; and small helpers shared by the CLI tests.
//
// Thread-safety: RunProcess may be called from several threads.
#ifndef REVKV_TESTS_CMD_PROCESS_H_
#define REVKV_TESTS_CMD_PROCESS_H_

#include <string>
#include <vector>

namespace revkv::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // The last non-empty line of err ("" if none).
  std::string LastErrLine() const;
};

// Runs argv[0] (a path) with `env_extra` ("K=V") added to the environment.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data,
                         const std::vector<std::string>& env_extra = {});

// The revkv binary in the test's runfiles.
std::string RevkvPath();

// etcdctl -w json output with the server-specific parts dropped (header
// cluster_id, member_id, raft_term) and "Endpoint" blanked, so that two
// servers' answers to the same history compare equal.
std::string NormaliseEtcdJson(const std::string& out);

// A fresh empty directory under $TEST_TMPDIR.
std::string NewTempDir(const std::string& prefix);

}  // namespace revkv::testing

#endif  // REVKV_TESTS_CMD_PROCESS_H_
