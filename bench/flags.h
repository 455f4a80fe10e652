// The one flag parser of `revkv bench`: every subcommand registers its flags
// in a FlagSet (the common ones via AddCommonFlags) and parses its arguments
// with it, so spelling, errors and --quick behave the same everywhere.
//
// Accepted forms: --flag=value and --flag value; booleans also bare (--json)
// or --flag=true|false|1|0. "-h", "--help" and "help" set CommonFlags::help.
// Errors name the flag: `unknown flag: --frob`, `invalid value "abc" for flag
// --keys`, `flag needs an argument: --keys`.
//
// Thread-compatible: a FlagSet is used by one thread.
#ifndef REVKV_BENCH_FLAGS_H_
#define REVKV_BENCH_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace revkv::bench {

// The flags every `revkv bench` subcommand takes (the stable interface).
struct CommonFlags {
  uint64_t keys = 1'000'000;  // --keys: keys loaded
  uint64_t key_size = 16;     // --key-size: bytes per key
  uint64_t value_size = 128;  // --value-size: bytes per value
  uint64_t batch = 10'000;    // --batch: puts per write transaction / commit
  uint64_t readers = 2;       // --readers: reader threads of the concurrent workloads
  uint64_t seed = 1;          // --seed: random seed
  std::string dir;            // --dir: data directory; empty: a temporary one
  bool quick = false;         // --quick: a smoke-test sized run
  bool json = false;          // --json: one JSON object per line
  bool csv = false;           // --csv: header + one row per (workload, engine)
  std::string plot;           // --plot FILE.svg: throughput and latency CDF plot
  bool help = false;          // -h, --help, help
  bool keys_set = false;      // --keys was given (so --quick leaves it alone)
};

class FlagSet {
 public:
  // Registers a flag; `name` includes the leading "--". `*set` (optional)
  // becomes true when the flag is given, so --quick can leave it alone.
  void AddUint(const char* name, uint64_t* v, bool* set = nullptr);
  void AddDouble(const char* name, double* v, bool* set = nullptr);
  void AddBool(const char* name, bool* v);
  void AddString(const char* name, std::string* v, bool* set = nullptr);

  // Parses args (the words after the subcommand) into the registered flags.
  absl::Status Parse(const std::vector<std::string>& args);

  // `*v` becomes true on -h, --help or help.
  void SetHelp(bool* v) { help_ = v; }

 private:
  enum class Kind { kUint, kDouble, kBool, kString };
  struct Flag {
    std::string name;
    Kind kind;
    void* value;
    bool* set;
    bool given = false;
  };
  Flag* Find(const std::string& name);

  std::vector<Flag> flags_;
  bool* help_ = nullptr;
};

// Registers --keys, --key-size, --value-size, --batch, --readers, --seed,
// --dir, --quick, --json, --csv, --plot and help into `fs`, writing `*c`.
void AddCommonFlags(FlagSet* fs, CommonFlags* c);

// Checks the common flags' ranges after parsing (keys >= 1 and < 2^32, key
// size in [1, 4096] and wide enough for the key count's digits, value size in
// [1, 64 MiB], batch >= 1, readers in [1, 256], at most one of --json and
// --csv); names the offending flag.
absl::Status ValidateCommonFlags(const CommonFlags& c);
// --rounds, where a subcommand takes it: in [1, 1000].
absl::Status ValidateRounds(uint64_t rounds);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_FLAGS_H_
