// FlagSet: a small command-line flag parser with spf13/pflag's syntax and
// error messages, so revkv fails exactly as etcdctl (cobra + pflag) does:
//
//   --name=value  --name value  --bool  --bool=false  -w json  -wjson  -w=json
//   --            ends the flags; a lone "-" is an argument
//
// Flags and arguments may be interspersed. Errors: `unknown flag: --x`,
// `unknown shorthand flag: 'x' in -x`, `flag needs an argument: --x`,
// `invalid argument "v" for "--x" flag: strconv.ParseInt: parsing "v":
// invalid syntax`. Integers parse as Go's strconv.ParseInt(s, 0, 64),
// durations as Go's time.ParseDuration ("5s", "1.5h", "2h45m", "-1ms", "0"),
// string slices as pflag's StringSlice (comma-separated; the first use
// replaces the default, later ones append). A boolean flag never takes the
// next word as its value: `--prefix false` is --prefix plus the argument
// "false" (only `--prefix=false` sets it false), as in pflag.
//
// Flags are either the command's own or persistent (the global flags every
// command inherits); the two are listed apart in the usage text.
//
// Thread-safety: not thread-safe; targets are written during Parse.
#ifndef REVKV_CMD_REVKV_FLAGS_H_
#define REVKV_CMD_REVKV_FLAGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace revkv::cli {

class FlagSet {
 public:
  // Flags write into targets the caller owns; the defaults are the targets'
  // values at definition. shorthand 0: none.
  void Bool(const std::string& name, bool* target, const std::string& usage, char shorthand = 0);
  void Int64(const std::string& name, int64_t* target, const std::string& usage);
  void String(const std::string& name, std::string* target, const std::string& usage,
              char shorthand = 0);
  void Duration(const std::string& name, absl::Duration* target, const std::string& usage);
  void StringSlice(const std::string& name, std::vector<std::string>* target,
                   const std::string& usage);
  // Marks flags defined from now on as persistent (global).
  void BeginPersistent() { persistent_ = true; }

  // Parses argv (without the command words); positional arguments go to
  // *args in order. `--help`/`-h` set help(). Errors as pflag's.
  absl::Status Parse(const std::vector<std::string>& argv, std::vector<std::string>* args);

  // Sets flag `name` as pflag's FlagSet.Set does (for values from the
  // environment): marks it changed; on a bad value it stays as it was and
  // the error reads `invalid argument "v" for "--name" flag: ...`.
  absl::Status SetValue(const std::string& name, const std::string& value);

  bool help() const { return help_; }
  // How many positional arguments came before a "--" (-1: no "--"): the
  // words after it are watch's exec command.
  int args_before_dash() const { return args_before_dash_; }
  bool Changed(const std::string& name) const { return changed_.count(name) != 0; }
  bool Has(const std::string& name) const { return flags_.count(name) != 0; }
  // Names of the persistent flags, sorted (pflag's VisitAll order).
  std::vector<std::string> PersistentNames() const;
  // True if `word` is a flag token that consumes the next word as its value:
  // "--name" or "-x" (no "=value" attached) of a non-boolean flag.
  bool TakesNextWord(const std::string& word) const;
  // "      --name=default\t\tusage" lines, etcdctl style: the command's own
  // flags, or the persistent ones.
  std::string Usage(bool persistent = false) const;

 private:
  enum class Kind { kBool, kInt64, kString, kDuration, kStringSlice };
  struct Flag {
    Kind kind;
    void* target;
    std::string usage;
    char shorthand;
    std::string def;
    bool persistent = false;
    bool slice_set = false;  // kStringSlice: set once already
  };
  void Define(const std::string& name, Flag f);
  // Parses `value` into f's target; marks `name` changed only on success.
  absl::Status Set(const std::string& name, Flag& f, const std::string& value,
                   const std::string& shown_name);
  absl::Status SetUnmarked(Flag& f, const std::string& value, const std::string& shown_name);

  std::map<std::string, Flag> flags_;
  std::map<char, std::string> shorthands_;
  std::set<std::string> changed_;
  bool help_ = false;
  int args_before_dash_ = -1;
  bool persistent_ = false;
};

// Go's strconv.ParseInt(s, 0, 64); false on error with *err as Go words it.
bool ParseGoInt64(const std::string& s, int64_t* v, std::string* err);

// Go's time.ParseDuration; false on error with *err as Go words it
// (`time: invalid duration "abc"`, `time: missing unit in duration "5"`,
// `time: unknown unit "x" in duration "5x"`).
bool ParseGoDuration(const std::string& s, absl::Duration* d, std::string* err);
// Go's time.Duration.String(): "0s", "850ns", "312µs", "1.667671ms",
// "1.5s", "1h2m3.5s". Durations beyond Go's range are clamped to it.
std::string FormatGoDuration(absl::Duration d);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_FLAGS_H_
