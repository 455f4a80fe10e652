#include "cmd/revkv/flags.h"

#include <limits>

#include "absl/strings/str_format.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {

bool ParseGoInt64(const std::string& in, int64_t* v, std::string* err) {
  std::string s = in;
  auto syntax = [&] {
    *err = absl::StrFormat("strconv.ParseInt: parsing %s: invalid syntax", GoQuote(in));
    return false;
  };
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  int base = 10;
  if (i + 1 < s.size() && s[i] == '0') {
    char b = char(s[i + 1] | 0x20);
    if (b == 'x') { base = 16; i += 2; }
    else if (b == 'b') { base = 2; i += 2; }
    else if (b == 'o') { base = 8; i += 2; }
    else { base = 8; i += 1; }
  }
  if (i >= s.size()) return syntax();
  unsigned __int128 acc = 0;
  bool any = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_' && base != 10) continue;
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    else return syntax();
    if (d >= base) return syntax();
    acc = acc * base + unsigned(d);
    any = true;
    if (acc > (unsigned __int128)(std::numeric_limits<uint64_t>::max())) acc = (unsigned __int128)(std::numeric_limits<uint64_t>::max());
  }
  if (!any) return syntax();
  unsigned __int128 lim = neg ? (unsigned __int128)(std::numeric_limits<int64_t>::max()) + 1
                              : (unsigned __int128)(std::numeric_limits<int64_t>::max());
  if (acc > lim) {
    *err = absl::StrFormat("strconv.ParseInt: parsing %s: value out of range", GoQuote(in));
    return false;
  }
  *v = neg ? -int64_t(acc - 1) - 1 : int64_t(acc);
  if (neg && acc == 0) *v = 0;
  return true;
}

void FlagSet::Bool(const std::string& name, bool* target, const std::string& usage,
                   char shorthand) {
  flags_[name] = Flag{Kind::kBool, target, usage, shorthand, *target ? "true" : "false"};
  if (shorthand != 0) shorthands_[shorthand] = name;
}

void FlagSet::Int64(const std::string& name, int64_t* target, const std::string& usage) {
  flags_[name] = Flag{Kind::kInt64, target, usage, 0, std::to_string(*target)};
}

void FlagSet::String(const std::string& name, std::string* target, const std::string& usage,
                     char shorthand) {
  flags_[name] = Flag{Kind::kString, target, usage, shorthand, "\"" + *target + "\""};
  if (shorthand != 0) shorthands_[shorthand] = name;
}

absl::Status FlagSet::Set(const std::string& name, Flag& f, const std::string& value,
                          const std::string& shown) {
  changed_.insert(name);
  switch (f.kind) {
    case Kind::kBool: {
      static const std::set<std::string> kTrue = {"1", "t", "T", "TRUE", "true", "True"};
      static const std::set<std::string> kFalse = {"0", "f", "F", "FALSE", "false", "False"};
      if (kTrue.count(value)) {
        *static_cast<bool*>(f.target) = true;
      } else if (kFalse.count(value)) {
        *static_cast<bool*>(f.target) = false;
      } else {
        return UsageError(absl::StrFormat(
            "invalid argument %s for \"%s\" flag: strconv.ParseBool: parsing %s: invalid syntax",
            GoQuote(value), shown, GoQuote(value)));
      }
      return absl::OkStatus();
    }
    case Kind::kInt64: {
      std::string err;
      if (!ParseGoInt64(value, static_cast<int64_t*>(f.target), &err)) {
        return UsageError(absl::StrFormat("invalid argument %s for \"%s\" flag: %s",
                                          GoQuote(value), shown, err));
      }
      return absl::OkStatus();
    }
    case Kind::kString:
      *static_cast<std::string*>(f.target) = value;
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(const std::vector<std::string>& argv, std::vector<std::string>* args) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      args->insert(args->end(), argv.begin() + i + 1, argv.end());
      return absl::OkStatus();
    }
    if (a.size() < 2 || a[0] != '-') {
      args->push_back(a);
      continue;
    }
    if (a[1] == '-') {
      std::string name = a.substr(2);
      std::string value;
      bool has_value = false;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      if (name == "help") {
        help_ = true;
        continue;
      }
      auto it = flags_.find(name);
      if (it == flags_.end()) return UsageError("unknown flag: --" + name);
      if (!has_value) {
        if (it->second.kind == Kind::kBool) {
          value = "true";
        } else if (i + 1 < argv.size()) {
          value = argv[++i];
        } else {
          return UsageError("flag needs an argument: --" + name);
        }
      }
      if (absl::Status s = Set(name, it->second, value, "--" + name); !s.ok()) return s;
      continue;
    }
    // Shorthands: -abc, -wjson, -w json, -w=json.
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      if (c == 'h') {
        help_ = true;
        continue;
      }
      auto sh = shorthands_.find(c);
      if (sh == shorthands_.end()) {
        return UsageError(absl::StrFormat("unknown shorthand flag: '%c' in %s", c, a));
      }
      Flag& f = flags_[sh->second];
      std::string shown = absl::StrFormat("-%c, --%s", c, sh->second);
      std::string rest = a.substr(j + 1);
      if (!rest.empty() && rest[0] == '=') {
        if (absl::Status s = Set(sh->second, f, rest.substr(1), shown); !s.ok()) return s;
        break;
      }
      if (f.kind == Kind::kBool) {
        if (absl::Status s = Set(sh->second, f, "true", shown); !s.ok()) return s;
        continue;
      }
      std::string value;
      if (!rest.empty()) {
        value = rest;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return UsageError(absl::StrFormat("flag needs an argument: '%c' in -%c", c, c));
      }
      if (absl::Status s = Set(sh->second, f, value, shown); !s.ok()) return s;
      break;
    }
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out;
  for (const auto& [name, f] : flags_) {
    std::string head = f.shorthand != 0 ? absl::StrFormat("  -%c, --%s", f.shorthand, name)
                                        : absl::StrFormat("      --%s", name);
    if (f.kind == Kind::kBool) {
      head += "[=" + f.def + "]";
    } else {
      head += "=" + f.def;
    }
    out += head + "\t\t" + f.usage + "\n";
  }
  return out;
}

}  // namespace revkv::cli
