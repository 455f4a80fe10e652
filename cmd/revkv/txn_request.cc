#include "cmd/revkv/txn_request.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/flags.h"
#include "cmd/revkv/op_parse.h"
#include "mvcc/errors.h"
#include "server/errors.h"
#include "etcdkv/apply.h"

namespace revkv::cli {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

absl::Status InvalidInput(const std::string& msg) { return ExitError(kExitInvalidInput, msg); }

// strconv.ParseInt(s, 10, 64).
bool ParseDecimalInt64(const std::string& s, int64_t* v) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
  }
  size_t first = s.find_first_not_of('0', i);
  std::string t = s.substr(0, i) + (first == std::string::npos ? "0" : s.substr(first));
  std::string err;
  return ParseGoInt64(t, v, &err);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Argify(const std::string& s) {
  // The regexp "(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]? , leftmost first.
  std::vector<std::string> words;
  std::vector<char> kinds;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      size_t j = i + 1;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          j += 2;
          continue;
        }
        if (s[j] == '"') {
          closed = true;
          break;
        }
        ++j;
      }
      if (closed) {
        words.push_back(s.substr(i, j + 1 - i));
        kinds.push_back('"');
        i = j + 1;
        continue;
      }
      ++i;  // an unmatched quote matches nothing
      continue;
    }
    if (c == '\'') {
      size_t j = s.find('\'', i + 1);
      if (j != std::string::npos) {
        words.push_back(s.substr(i, j + 1 - i));
        kinds.push_back('\'');
        i = j + 1;
        continue;
      }
      ++i;
      continue;
    }
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    // [^'"\s]\S*[^'"\s]? : \S* is greedy over non-space.
    size_t j = i + 1;
    while (j < s.size() && !IsSpace(s[j])) ++j;
    words.push_back(s.substr(i, j - i));
    kinds.push_back('w');
    i = j;
  }
  for (size_t k = 0; k < words.size(); ++k) {
    if (kinds[k] == '\'') {
      // etcdctl slices args[i][1 : len(args)-1] (sic).
      size_t hi = words.size() - 1;
      if (hi < 1 || hi > words[k].size()) {
        return RawError(2, absl::StrFormat("panic: runtime error: slice bounds out of range "
                                            "[:%d] with length %d",
                                            hi, words[k].size()));
      }
      words[k] = words[k].substr(1, hi - 1);
    } else if (kinds[k] == '"') {
      std::string out;
      size_t used;
      if (!GoUnquotePrefix(words[k], &out, &used)) {
        return InvalidInput("unexpected EOF");
      }
      words[k] = out;
    }
  }
  return words;
}

absl::StatusOr<Compare> ParseCompare(const std::string& line) {
  size_t lp = line.find('(');
  if (lp == std::string::npos) return InvalidInput("malformed comparison: " + line);
  const std::string target = line.substr(0, lp);
  // fmt.Sscanf(rest, "%q) %s %q", &key, &op, &val)
  std::string rest = line.substr(lp + 1);
  std::string key, op, val;
  int n = 0;
  size_t pos = 0;
  auto skip_spaces = [&] {
    size_t start = pos;
    while (pos < rest.size() && IsSpace(rest[pos])) ++pos;
    return pos > start;
  };
  [&] {
    skip_spaces();
    size_t used;
    if (!GoUnquotePrefix(std::string_view(rest).substr(pos), &key, &used)) {
      key.clear();
      return;
    }
    pos += used;
    ++n;
    if (pos >= rest.size() || rest[pos] != ')') return;
    ++pos;
    if (!skip_spaces()) return;
    size_t start = pos;
    while (pos < rest.size() && !IsSpace(rest[pos])) ++pos;
    if (pos == start) return;
    op = rest.substr(start, pos - start);
    ++n;
    if (!skip_spaces()) return;
    if (!GoUnquotePrefix(std::string_view(rest).substr(pos), &val, &used)) {
      val.clear();
      return;
    }
    pos += used;
    ++n;
  }();
  if (n != 3) {
    return InvalidInput(absl::StrFormat("malformed comparison: %s; got %s(%s) %s %s", line,
                                        target, GoQuote(key), op, GoQuote(val)));
  }
  Compare c;
  c.key = key;
  bool numeric = true;
  if (target == "ver" || target == "version") {
    c.target = CompareTarget::kVersion;
  } else if (target == "c" || target == "create") {
    c.target = CompareTarget::kCreate;
  } else if (target == "m" || target == "mod") {
    c.target = CompareTarget::kMod;
  } else if (target == "val" || target == "value") {
    c.target = CompareTarget::kValue;
    c.value = val;
    numeric = false;
  } else if (target == "lease") {
    c.target = CompareTarget::kLease;
  } else {
    return InvalidInput(
        absl::StrFormat("malformed comparison: %s (unknown target %s)", line, target));
  }
  if (numeric) {
    int64_t v;
    bool ok = ParseDecimalInt64(val, &v);
    if (!ok) return InvalidInput("invalid txn compare request: " + line);
    c.number = v;
  }
  if (op == "=") {
    c.result = CompareResult::kEqual;
  } else if (op == "!=") {
    c.result = CompareResult::kNotEqual;
  } else if (op == ">") {
    c.result = CompareResult::kGreater;
  } else if (op == "<") {
    c.result = CompareResult::kLess;
  } else if (op == ">=") {  // revkv's extension: etcdctl panics
    c.result = CompareResult::kGreaterEqual;
  } else if (op == "<=") {
    c.result = CompareResult::kLessEqual;
  } else {
    return RawError(2, "panic: Unknown result op");
  }
  return c;
}

absl::StatusOr<RequestOp> ParseRequestOp(const std::string& line) {
  absl::StatusOr<std::vector<std::string>> words = Argify(line);
  if (!words.ok()) return words.status();
  if (words->size() < 2) return InvalidInput("invalid txn compare request: " + line);
  const absl::Status invalid = InvalidInput("invalid txn request: " + line);
  // cobra prefix matching among put, get, del.
  const std::string& w = (*words)[0];
  std::string cmd;
  for (const char* name : {"put", "get", "del"}) {
    if (std::string_view(name).substr(0, w.size()) == w) {
      if (!cmd.empty() && w != name) return invalid;
      cmd = name;
      if (w == name) break;
    }
  }
  if (cmd.empty()) return invalid;
  std::vector<std::string> rest(words->begin() + 1, words->end());
  std::vector<std::string> args;
  FlagSet fs;
  if (cmd == "put") {
    PutFlags f;
    AddPutFlags(&fs, &f);
    if (!fs.Parse(rest, &args).ok() || fs.help()) return invalid;
    absl::StatusOr<PutRequest> r = BuildPut(args, f, nullptr);
    if (!r.ok()) return r.status();
    return RequestOp(*r);
  }
  if (cmd == "get") {
    GetFlags f;
    AddGetFlags(&fs, &f);
    if (!fs.Parse(rest, &args).ok() || fs.help()) return invalid;
    absl::StatusOr<RangeRequest> r = BuildGet(args, f);
    if (!r.ok()) return r.status();
    return RequestOp(*r);
  }
  DelFlags f;
  AddDelFlags(&fs, &f);
  if (!fs.Parse(rest, &args).ok() || fs.help()) return invalid;
  absl::StatusOr<DeleteRequest> r = BuildDel(args, f);
  if (!r.ok()) return r.status();
  return RequestOp(*r);
}

namespace {

// bufio.Reader.ReadString('\n'): a line with its '\n', or EOF.
absl::StatusOr<std::string> ReadLine(std::istream& in) {
  std::string line;
  if (!std::getline(in, line) || in.eof()) return InvalidInput("EOF");
  return line;
}

std::string Trim(const std::string& s) {
  return std::string(absl::StripAsciiWhitespace(s));
}

absl::StatusOr<std::vector<RequestOp>> ReadOps(std::istream& in, std::ostream* prompts,
                                               const char* prompt) {
  if (prompts != nullptr) *prompts << prompt << std::flush;
  std::vector<RequestOp> ops;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(in);
    if (!line.ok()) return line.status();
    std::string t = Trim(*line);
    if (t.empty()) break;
    absl::StatusOr<RequestOp> op = ParseRequestOp(t);
    if (!op.ok()) return op.status();
    ops.push_back(std::move(*op));
  }
  return ops;
}

absl::StatusOr<TxnRequest> Read(std::istream& in, std::ostream* prompts) {
  TxnRequest txn;
  if (prompts != nullptr) *prompts << "compares:\n" << std::flush;
  while (true) {
    absl::StatusOr<std::string> line = ReadLine(in);
    if (!line.ok()) return line.status();
    std::string t = Trim(*line);
    if (t.empty()) break;
    absl::StatusOr<Compare> c = ParseCompare(t);
    if (!c.ok()) return c.status();
    txn.compares.push_back(std::move(*c));
  }
  absl::StatusOr<std::vector<RequestOp>> ops =
      ReadOps(in, prompts, "success requests (get, put, del):\n");
  if (!ops.ok()) return ops.status();
  txn.success = std::move(*ops);
  ops = ReadOps(in, prompts, "failure requests (get, put, del):\n");
  if (!ops.ok()) return ops.status();
  txn.failure = std::move(*ops);
  return txn;
}

}  // namespace

absl::StatusOr<TxnRequest> ReadTxn(std::istream& in) { return Read(in, nullptr); }

absl::StatusOr<TxnRequest> ReadTxnInteractive(std::istream& in, std::ostream& prompts) {
  return Read(in, &prompts);
}

}  // namespace revkv::cli
