#include "bench/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace revkv::bench {
namespace {

// An unsigned decimal / a non-negative finite double; errors name `flag`.
absl::Status ParseUintFlag(const std::string& flag, const std::string& text, uint64_t* out) {
  auto bad = [&] {
    return absl::InvalidArgumentError("invalid value \"" + text + "\" for flag " + flag);
  };
  if (text.empty() || text[0] < '0' || text[0] > '9') return bad();
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return bad();
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseDoubleFlag(const std::string& flag, const std::string& text, double* out) {
  errno = 0;
  char* end = nullptr;
  double v = text.empty() ? -1 : std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !(v >= 0) || !std::isfinite(v)) {
    return absl::InvalidArgumentError("invalid value \"" + text + "\" for flag " + flag);
  }
  *out = v;
  return absl::OkStatus();
}

}  // namespace

void FlagSet::AddUint(const char* name, uint64_t* v, bool* set) {
  flags_.push_back({name, Kind::kUint, v, set});
}
void FlagSet::AddDouble(const char* name, double* v, bool* set) {
  flags_.push_back({name, Kind::kDouble, v, set});
}
void FlagSet::AddBool(const char* name, bool* v) { flags_.push_back({name, Kind::kBool, v, nullptr}); }
void FlagSet::AddString(const char* name, std::string* v, bool* set) {
  flags_.push_back({name, Kind::kString, v, set});
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "help") {
      if (help_ != nullptr) *help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      return absl::InvalidArgumentError("unexpected argument \"" + arg + "\"");
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Flag* f = Find(name);
    if (f == nullptr) return absl::InvalidArgumentError("unknown flag: " + name);
    f->given = true;
    if (f->set != nullptr) *f->set = true;
    if (f->kind == Kind::kBool) {
      bool* b = static_cast<bool*>(f->value);
      if (!has_value || value == "true" || value == "1") {
        *b = true;
      } else if (value == "false" || value == "0") {
        *b = false;
      } else {
        return absl::InvalidArgumentError("invalid value \"" + value + "\" for flag " + name);
      }
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError("flag needs an argument: " + name);
      value = args[++i];
    }
    absl::Status s;
    switch (f->kind) {
      case Kind::kUint:
        s = ParseUintFlag(name, value, static_cast<uint64_t*>(f->value));
        break;
      case Kind::kDouble:
        s = ParseDoubleFlag(name, value, static_cast<double*>(f->value));
        break;
      case Kind::kString:
        if (value.empty()) return absl::InvalidArgumentError("flag " + name + " needs a value");
        *static_cast<std::string*>(f->value) = value;
        break;
      case Kind::kBool:
        break;
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void AddCommonFlags(FlagSet* fs, CommonFlags* c) {
  fs->AddUint("--keys", &c->keys, &c->keys_set);
  fs->AddUint("--key-size", &c->key_size);
  fs->AddUint("--value-size", &c->value_size);
  fs->AddUint("--batch", &c->batch);
  fs->AddUint("--readers", &c->readers);
  fs->AddUint("--seed", &c->seed);
  fs->AddString("--dir", &c->dir);
  fs->AddBool("--quick", &c->quick);
  fs->AddBool("--json", &c->json);
  fs->AddBool("--csv", &c->csv);
  fs->AddString("--plot", &c->plot);
  fs->SetHelp(&c->help);
}

absl::Status ValidateCommonFlags(const CommonFlags& c) {
  if (c.keys == 0) return absl::InvalidArgumentError("flag --keys must be at least 1");
  if (c.keys > UINT32_MAX) return absl::InvalidArgumentError("flag --keys must be below 2^32");
  const uint64_t digits = std::to_string(c.keys - 1).size();
  if (c.key_size == 0 || c.key_size > 4096) {
    return absl::InvalidArgumentError("flag --key-size must be in [1, 4096]");
  }
  if (c.key_size < digits) {
    return absl::InvalidArgumentError("flag --key-size " + std::to_string(c.key_size) +
                                      " is too small for " + std::to_string(c.keys) +
                                      " keys (needs " + std::to_string(digits) + ")");
  }
  if (c.value_size == 0 || c.value_size > (64 << 20)) {
    return absl::InvalidArgumentError("flag --value-size must be in [1, 64 MiB]");
  }
  if (c.batch == 0) return absl::InvalidArgumentError("flag --batch must be at least 1");
  if (c.readers == 0 || c.readers > 256) {
    return absl::InvalidArgumentError("flag --readers must be in [1, 256]");
  }
  if (c.json && c.csv) return absl::InvalidArgumentError("flags --json and --csv exclude each other");
  return absl::OkStatus();
}

absl::Status ValidateRounds(uint64_t rounds) {
  if (rounds == 0 || rounds > 1000) {
    return absl::InvalidArgumentError("flag --rounds must be in [1, 1000]");
  }
  return absl::OkStatus();
}

}  // namespace revkv::bench
