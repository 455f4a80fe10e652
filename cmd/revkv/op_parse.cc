#include "cmd/revkv/op_parse.h"

#include "absl/strings/ascii.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {

void AddGetFlags(FlagSet* fs, GetFlags* f) {
  fs->String("consistency", &f->consistency, "Linearizable(l) or Serializable(s)");
  fs->String("order", &f->order, "Order of results; ASCEND or DESCEND (ASCEND by default)");
  fs->String("sort-by", &f->sort_by, "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION");
  fs->Int64("limit", &f->limit, "Maximum number of results");
  fs->Bool("prefix", &f->prefix, "Get keys with matching prefix");
  fs->Bool("from-key", &f->from_key,
           "Get keys that are greater than or equal to the given key using byte compare");
  fs->Int64("rev", &f->rev, "Specify the kv revision");
  fs->Bool("keys-only", &f->keys_only, "Get only the keys");
  fs->Bool("count-only", &f->count_only, "Get only the count (etcd 3.5)");
  fs->Bool("print-value-only", &f->print_value_only,
           "Only write values when using the \"simple\" output format");
}

void AddPutFlags(FlagSet* fs, PutFlags* f) {
  fs->String("lease", &f->lease, "lease ID (in hexadecimal) to attach to the key");
  fs->Bool("prev-kv", &f->prev_kv, "return the previous key-value pair before modification");
  fs->Bool("ignore-value", &f->ignore_value, "updates the key using its current value");
  fs->Bool("ignore-lease", &f->ignore_lease, "updates the key using its current lease");
}

void AddDelFlags(FlagSet* fs, DelFlags* f) {
  fs->Bool("prefix", &f->prefix, "delete keys with matching prefix");
  fs->Bool("prev-kv", &f->prev_kv, "return deleted key-value pairs");
  fs->Bool("from-key", &f->from_key,
           "delete keys that are greater than or equal to the given key using byte compare");
}

std::string PrefixEnd(const std::string& key) {
  std::string end = key;
  for (int i = int(end.size()) - 1; i >= 0; --i) {
    if (uint8_t(end[i]) < 0xff) {
      end[i] = char(uint8_t(end[i]) + 1);
      end.resize(size_t(i) + 1);
      return end;
    }
  }
  return std::string(1, '\0');
}

namespace {

constexpr char kPrefixFromKeyArgs[] =
    "too many arguments, only accept one argument when `--prefix` or `--from-key` is set";
constexpr char kPrefixAndFromKey[] =
    "`--prefix` and `--from-key` cannot be set at the same time, choose one";

// Sets key/end for --prefix / --from-key as etcdctl does.
void ApplyRangeFlags(bool prefix, bool from_key, std::string* key, std::string* end) {
  if (prefix) {
    if (key->empty()) {
      *key = std::string(1, '\0');
      *end = std::string(1, '\0');
    } else {
      *end = PrefixEnd(*key);
    }
  }
  if (from_key) {
    if (key->empty()) *key = std::string(1, '\0');
    *end = std::string(1, '\0');
  }
}

}  // namespace

absl::StatusOr<RangeRequest> BuildGet(const std::vector<std::string>& args, const GetFlags& f) {
  if (args.empty()) {
    return ExitError(kExitBadArgs,
                     "get command needs one argument as key and an optional argument as "
                     "range_end");
  }
  if (f.prefix && f.from_key) return ExitError(kExitBadArgs, kPrefixAndFromKey);
  if (f.consistency != "l" && f.consistency != "s") {
    return ExitError(kExitBadFeature, "unknown consistency flag \"" + f.consistency + "\"");
  }
  if ((f.prefix || f.from_key) && args.size() > 1) {
    return ExitError(kExitBadArgs, kPrefixFromKeyArgs);
  }
  RangeRequest r;
  r.key = args[0];
  if (args.size() > 1) r.end = args[1];
  const std::string order = absl::AsciiStrToUpper(f.order);
  if (order == "ASCEND") {
    r.sort_order = SortOrder::kAscend;
  } else if (order == "DESCEND") {
    r.sort_order = SortOrder::kDescend;
  } else if (!order.empty()) {
    return ExitError(kExitBadFeature, "bad sort order " + f.order);
  }
  const std::string target = absl::AsciiStrToUpper(f.sort_by);
  if (target == "CREATE") {
    r.sort_target = SortTarget::kCreate;
  } else if (target == "KEY" || target.empty()) {
    r.sort_target = SortTarget::kKey;
  } else if (target == "MODIFY") {
    r.sort_target = SortTarget::kMod;
  } else if (target == "VALUE") {
    r.sort_target = SortTarget::kValue;
  } else if (target == "VERSION") {
    r.sort_target = SortTarget::kVersion;
  } else {
    return ExitError(kExitBadFeature, "bad sort target " + f.sort_by);
  }
  // clientv3.WithSort: KEY ascending is the server's natural order.
  if (r.sort_target == SortTarget::kKey && r.sort_order == SortOrder::kAscend) {
    r.sort_order = SortOrder::kNone;
  }
  ApplyRangeFlags(f.prefix, f.from_key, &r.key, &r.end);
  r.limit = f.limit;
  r.rev = f.rev > 0 ? f.rev : 0;
  r.keys_only = f.keys_only;
  r.count_only = f.count_only;
  return r;
}

absl::StatusOr<PutRequest> BuildPut(const std::vector<std::string>& args, const PutFlags& f,
                                    const StdinReader& stdin_reader) {
  constexpr char kArgs[] = "put command needs 1 argument and input from stdin or 2 arguments";
  if (args.empty()) return ExitError(kExitBadArgs, kArgs);
  PutRequest r;
  r.key = args[0];
  if (f.ignore_value && args.size() > 1) {
    return ExitError(kExitBadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  if (!f.ignore_value) {
    if (args.size() > 1) {
      r.value = args[1];
    } else {
      r.value = stdin_reader ? stdin_reader() : std::string();
      if (r.value.empty()) return ExitError(kExitBadArgs, kArgs);
    }
  }
  if (f.lease != "0" && !f.lease.empty()) {
    return ExitError(kExitBadArgs, "revkv has no leases: --lease is not supported");
  }
  r.prev_kv = f.prev_kv;
  r.ignore_value = f.ignore_value;
  return r;
}

absl::StatusOr<DeleteRequest> BuildDel(const std::vector<std::string>& args, const DelFlags& f) {
  if (args.empty() || args.size() > 2) {
    return ExitError(kExitBadArgs,
                     "del command needs one argument as key and an optional argument as "
                     "range_end");
  }
  if (f.prefix && f.from_key) return ExitError(kExitBadArgs, kPrefixAndFromKey);
  if ((f.prefix || f.from_key) && args.size() > 1) {
    return ExitError(kExitBadArgs, kPrefixFromKeyArgs);
  }
  DeleteRequest r;
  r.key = args[0];
  if (args.size() > 1) r.end = args[1];
  ApplyRangeFlags(f.prefix, f.from_key, &r.key, &r.end);
  r.prev_kv = f.prev_kv;
  return r;
}

}  // namespace revkv::cli
