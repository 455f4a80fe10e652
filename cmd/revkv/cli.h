// RunCli: revkv's etcdctl-compatible command line, minus `bench` (main.cc
// dispatches that itself).
//
//   revkv [--data-dir DIR] [-w simple|json|fields|table] <command> [args] [flags]
//
// Commands are found by cobra's rules (a unique prefix works: `compact` is
// `compaction`); global and command flags may appear anywhere after the
// program name. --data-dir defaults to $REVKV_DATA_DIR. The global flags
// are etcdctl's, with their ETCDCTL_* environment variables
// (global_flags.h). Errors print `Error: <message>` as the last line of
// `err` (a few verbatim: exit_status.h's RawError) and return etcdctl's exit
// code.
//
// Thread-safety: not thread-safe (one invocation per call; reads `in`).
#ifndef REVKV_CMD_REVKV_CLI_H_
#define REVKV_CMD_REVKV_CLI_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace revkv::cli {

// argv without the program name. Returns the process exit code.
int RunCli(const std::vector<std::string>& argv, std::istream& in, std::ostream& out,
           std::ostream& err);

// The top-level usage text.
std::string RootUsage();

// `version`'s output: etcdctl's two lines (the etcdctl release whose command
// line revkv follows, the API version), then revkv's own version.
std::string VersionText();

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_CLI_H_
