#include "cmd/revkv/flags.h"

#include <algorithm>
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

namespace {

// Go's time.quote (the quoting of time's error messages): bytes below ' '
// or above 0x7f as \xNN, '"' and '\\' escaped.
std::string TimeQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c < ' ' || c >= 0x80) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += char(c);
    }
  }
  return out + "\"";
}

constexpr uint64_t kMaxDuration = uint64_t{1} << 63;  // Go's limit (as magnitude)

// Go's encoding/csv reading one record (pflag's readAsCSV); false with Go's
// error text on malformed quotes.
bool ReadCsvRecord(const std::string& in, std::vector<std::string>* out, std::string* err) {
  out->clear();
  if (in.empty()) return true;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < in.size() && in[i] == '"') {
      size_t j = i + 1;
      bool closed = false;
      while (j < in.size()) {
        if (in[j] != '"') {
          field += in[j++];
          continue;
        }
        if (j + 1 < in.size() && in[j + 1] == '"') {
          field += '"';
          j += 2;
          continue;
        }
        if (j + 1 == in.size() || in[j + 1] == ',') {
          closed = true;
          ++j;
          break;
        }
        *err = absl::StrFormat(
            "parse error on line 1, column %d: extraneous or missing \" in quoted-field", j + 1);
        return false;
      }
      if (!closed) {
        *err = absl::StrFormat(
            "parse error on line 1, column %d: extraneous or missing \" in quoted-field",
            in.size() + 1);
        return false;
      }
      i = j;
    } else {
      size_t j = in.find(',', i);
      if (j == std::string::npos) j = in.size();
      field = in.substr(i, j - i);
      if (size_t q = field.find('"'); q != std::string::npos) {
        *err = absl::StrFormat("parse error on line 1, column %d: bare \" in non-quoted-field",
                               i + q + 1);
        return false;
      }
      i = j;
    }
    out->push_back(std::move(field));
    if (i >= in.size()) return true;
    ++i;  // the comma
    if (i == in.size()) {
      out->push_back("");
      return true;
    }
  }
}

std::string SliceDefault(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out + "]";
}

}  // namespace

bool ParseGoDuration(const std::string& orig, absl::Duration* out, std::string* err) {
  auto invalid = [&] {
    *err = "time: invalid duration " + TimeQuote(orig);
    return false;
  };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *out = absl::ZeroDuration();
    return true;
  }
  if (s.empty()) return invalid();
  static const std::pair<std::string_view, uint64_t> kUnits[] = {
      {"ns", 1},
      {"us", 1000},
      {"\xc2\xb5s", 1000},  // U+00B5 micro sign
      {"\xce\xbcs", 1000},  // U+03BC Greek mu
      {"ms", 1000 * 1000},
      {"s", 1000 * 1000 * 1000},
      {"m", uint64_t{60} * 1000 * 1000 * 1000},
      {"h", uint64_t{3600} * 1000 * 1000 * 1000},
  };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || digit(s[0]))) return invalid();
    // [0-9]*
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && digit(s[i]); ++i) {
      if (v > kMaxDuration / 10) return invalid();
      v = v * 10 + uint64_t(s[i] - '0');
      if (v > kMaxDuration) return invalid();
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    // (\.[0-9]*)?
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && digit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kMaxDuration - 1) / 10) {
          overflow = true;
          continue;
        }
        uint64_t y = f * 10 + uint64_t(s[j] - '0');
        if (y > kMaxDuration) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !digit(s[u])) ++u;
    if (u == 0) {
      *err = "time: missing unit in duration " + TimeQuote(orig);
      return false;
    }
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    for (const auto& [name, ns] : kUnits) {
      if (name == unit_name) unit = ns;
    }
    if (unit == 0) {
      *err = "time: unknown unit " + TimeQuote(std::string(unit_name)) + " in duration " +
             TimeQuote(orig);
      return false;
    }
    if (v > kMaxDuration / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += uint64_t(double(f) * (double(unit) / scale));
      if (v > kMaxDuration) return invalid();
    }
    d += v;
    if (d > kMaxDuration) return invalid();
  }
  if (neg) {
    *out = absl::Nanoseconds(d == kMaxDuration ? std::numeric_limits<int64_t>::min()
                                               : -int64_t(d));
    return true;
  }
  if (d > kMaxDuration - 1) return invalid();
  *out = absl::Nanoseconds(int64_t(d));
  return true;
}

std::string FormatGoDuration(absl::Duration dur) {
  const int64_t ns = absl::ToInt64Nanoseconds(dur);  // saturates
  uint64_t u = ns < 0 ? uint64_t(0) - uint64_t(ns) : uint64_t(ns);
  // fmtFrac: the fraction of v/10^prec without trailing zeros.
  auto frac = [](uint64_t* v, int prec) {
    std::string digits;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      char c = char('0' + *v % 10);
      print = print || c != '0';
      if (print) digits.insert(digits.begin(), c);
      *v /= 10;
    }
    return print ? "." + digits : std::string();
  };
  std::string out;
  if (u < 1000000000) {
    if (u == 0) return "0s";
    std::string unit;
    int prec;
    if (u < 1000) {
      prec = 0;
      unit = "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\xc2\xb5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    std::string f = frac(&u, prec);
    out = std::to_string(u) + f + unit;
  } else {
    std::string f = frac(&u, 9);
    out = std::to_string(u % 60) + f + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return ns < 0 ? "-" + out : out;
}

void FlagSet::Define(const std::string& name, Flag f) {
  f.persistent = persistent_;
  if (f.shorthand != 0) shorthands_[f.shorthand] = name;
  flags_[name] = std::move(f);
}

void FlagSet::Bool(const std::string& name, bool* target, const std::string& usage,
                   char shorthand) {
  Define(name, Flag{Kind::kBool, target, usage, shorthand, *target ? "true" : "false"});
}

void FlagSet::Int64(const std::string& name, int64_t* target, const std::string& usage) {
  Define(name, Flag{Kind::kInt64, target, usage, 0, std::to_string(*target)});
}

void FlagSet::String(const std::string& name, std::string* target, const std::string& usage,
                     char shorthand) {
  Define(name, Flag{Kind::kString, target, usage, shorthand, "\"" + *target + "\""});
}

void FlagSet::Duration(const std::string& name, absl::Duration* target,
                       const std::string& usage) {
  Define(name, Flag{Kind::kDuration, target, usage, 0, FormatGoDuration(*target)});
}

void FlagSet::StringSlice(const std::string& name, std::vector<std::string>* target,
                          const std::string& usage) {
  Define(name, Flag{Kind::kStringSlice, target, usage, 0, SliceDefault(*target)});
}

absl::Status FlagSet::SetValue(const std::string& name, const std::string& value) {
  auto it = flags_.find(name);
  if (it == flags_.end()) return UsageError("no such flag -" + name);
  Flag& f = it->second;
  std::string shown = f.shorthand != 0 ? absl::StrFormat("-%c, --%s", f.shorthand, name)
                                       : "--" + name;
  return Set(name, f, value, shown);
}

std::vector<std::string> FlagSet::PersistentNames() const {
  std::vector<std::string> names;
  for (const auto& [name, f] : flags_) {
    if (f.persistent) names.push_back(name);
  }
  return names;
}

bool FlagSet::TakesNextWord(const std::string& a) const {
  if (a.size() > 2 && a[0] == '-' && a[1] == '-') {
    auto it = flags_.find(a.substr(2));
    return it != flags_.end() && it->second.kind != Kind::kBool;
  }
  if (a.size() == 2 && a[0] == '-') {
    auto sh = shorthands_.find(a[1]);
    return sh != shorthands_.end() && flags_.at(sh->second).kind != Kind::kBool;
  }
  return false;
}

absl::Status FlagSet::Set(const std::string& name, Flag& f, const std::string& value,
                          const std::string& shown) {
  absl::Status s = SetUnmarked(f, value, shown);
  if (s.ok()) changed_.insert(name);
  return s;
}

absl::Status FlagSet::SetUnmarked(Flag& f, const std::string& value, const std::string& shown) {
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
    case Kind::kDuration: {
      std::string err;
      if (!ParseGoDuration(value, static_cast<absl::Duration*>(f.target), &err)) {
        return UsageError(absl::StrFormat("invalid argument %s for \"%s\" flag: %s",
                                          GoQuote(value), shown, err));
      }
      return absl::OkStatus();
    }
    case Kind::kStringSlice: {
      std::vector<std::string> v;
      std::string err;
      if (!ReadCsvRecord(value, &v, &err)) {
        return UsageError(absl::StrFormat("invalid argument %s for \"%s\" flag: %s",
                                          GoQuote(value), shown, err));
      }
      auto* target = static_cast<std::vector<std::string>*>(f.target);
      // pflag: the first Set replaces the default, later ones append.
      if (!f.slice_set) target->clear();
      target->insert(target->end(), v.begin(), v.end());
      f.slice_set = true;
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(const std::vector<std::string>& argv, std::vector<std::string>* args) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      args_before_dash_ = int(args->size());
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

std::string FlagSet::Usage(bool persistent) const {
  std::string out;
  for (const auto& [name, f] : flags_) {
    if (f.persistent != persistent) continue;
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
