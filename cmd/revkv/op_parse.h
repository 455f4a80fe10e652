// Building put / get / del requests from command-line words, as etcdctl's
// getPutOp / getGetOp / getDelOp do: the same flags, key conversions
// (--prefix end, "" with --prefix/--from-key meaning every key) and the same
// errors with the same exit codes. Used by the commands and by txn lines.
//
// Thread-safety: pure functions (flag structs are per call).
#ifndef REVKV_CMD_REVKV_OP_PARSE_H_
#define REVKV_CMD_REVKV_OP_PARSE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/revkv/flags.h"
#include "cmd/revkv/requests.h"

namespace revkv::cli {

struct GetFlags {
  std::string consistency = "l";
  std::string sort_by;
  std::string order;
  bool prefix = false;
  bool from_key = false;
  int64_t limit = 0;
  int64_t rev = 0;
  bool keys_only = false;
  bool count_only = false;
  bool print_value_only = false;
};
struct PutFlags {
  std::string lease = "0";
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};
struct DelFlags {
  bool prefix = false;
  bool prev_kv = false;
  bool from_key = false;
};

void AddGetFlags(FlagSet* fs, GetFlags* f);
void AddPutFlags(FlagSet* fs, PutFlags* f);
void AddDelFlags(FlagSet* fs, DelFlags* f);

// etcd's prefix end: the key with its last byte < 0xff incremented (trailing
// 0xff bytes dropped); "\0" when there is none.
std::string PrefixEnd(const std::string& key);

// Reads stdin whole for `put KEY` without a value.
using StdinReader = std::function<std::string()>;

absl::StatusOr<RangeRequest> BuildGet(const std::vector<std::string>& args, const GetFlags& f);
absl::StatusOr<PutRequest> BuildPut(const std::vector<std::string>& args, const PutFlags& f,
                                    const StdinReader& stdin_reader);
absl::StatusOr<DeleteRequest> BuildDel(const std::vector<std::string>& args, const DelFlags& f);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_OP_PARSE_H_
