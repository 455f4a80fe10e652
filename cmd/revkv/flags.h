// FlagSet: a small command-line flag parser with spf13/pflag's syntax and
// error messages, so revkv fails exactly as etcdctl (cobra + pflag) does:
//
//   --name=value  --name value  --bool  --bool=false  -w json  -wjson  -w=json
//   --            ends the flags; a lone "-" is an argument
//
// Flags and arguments may be interspersed. Errors: `unknown flag: --x`,
// `unknown shorthand flag: 'x' in -x`, `flag needs an argument: --x`,
// `invalid argument "v" for "--x" flag: strconv.ParseInt: parsing "v":
// invalid syntax`. Integers parse as Go's strconv.ParseInt(s, 0, 64).
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

namespace revkv::cli {

class FlagSet {
 public:
  // Flags write into targets the caller owns; the defaults are the targets'
  // values at definition. shorthand 0: none.
  void Bool(const std::string& name, bool* target, const std::string& usage, char shorthand = 0);
  void Int64(const std::string& name, int64_t* target, const std::string& usage);
  void String(const std::string& name, std::string* target, const std::string& usage,
              char shorthand = 0);

  // Parses argv (without the command words); positional arguments go to
  // *args in order. `--help`/`-h` set help(). Errors as pflag's.
  absl::Status Parse(const std::vector<std::string>& argv, std::vector<std::string>* args);

  bool help() const { return help_; }
  bool Changed(const std::string& name) const { return changed_.count(name) != 0; }
  // "      --name=default\t\tusage" lines, etcdctl style.
  std::string Usage() const;

 private:
  enum class Kind { kBool, kInt64, kString };
  struct Flag {
    Kind kind;
    void* target;
    std::string usage;
    char shorthand;
    std::string def;
  };
  absl::Status Set(const std::string& name, Flag& f, const std::string& value,
                   const std::string& shown_name);

  std::map<std::string, Flag> flags_;
  std::map<char, std::string> shorthands_;
  std::set<std::string> changed_;
  bool help_ = false;
};

// Go's strconv.ParseInt(s, 0, 64); false on error with *err as Go words it.
bool ParseGoInt64(const std::string& s, int64_t* v, std::string* err);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_FLAGS_H_
