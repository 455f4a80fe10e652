// watch -i in client mode, as etcdctl 3.4's watchInteractiveFunc: lines
// from stdin, each "watch [--prefix] [--rev=N] [--prev-kv] key [range_end]
// [-- cmd args]" (its own flags: the command line's do not apply) or
// "progress"; anything else gets an "Invalid command" line on stderr and
// the loop goes on. All watches share one stream, as clientv3's do, so a
// "progress" answer (watch id -1) reaches every watcher: each prints
// "progress notify: REV". The end of stdin ends the command: "Error
// reading watch request line: EOF", exit 3. A line etcdctl cannot parse
// (a flag error, "--" without a command) ends it with exit 128.
//
// Differences: clientv3 reopens a broken stream and re-creates its
// watchers; here a broken stream ends their output (later lines still
// parse, their watches get no answer). A failing exec command ends the
// process from the stream's reader thread (etcdctl's os.Exit(1) from its
// printing goroutine): the main thread may be blocked reading stdin.
//
// Thread-safety: the main thread reads stdin and writes requests; one
// reader thread reads answers. Both print under mu; the watchers' table
// is guarded by mu too.
#include <unistd.h>

#include <deque>
#include <map>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_watch.h"
#include "cmd/revkv/txn_request.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

class Session {
 public:
  explicit Session(Invocation& inv) : inv_(inv) {}

  // Reads the stream until it ends; prints each answer for its watcher.
  void ReadAnswers(grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>* stream) {
    pb::WatchResponse r;
    while (stream->Read(&r)) {
      absl::MutexLock lock(&mu_);
      if (r.watch_id() == -1 && !r.created() && !r.canceled() && r.events_size() == 0) {
        for (const auto& [id, exec] : watchers_) Print(r, exec);
        continue;
      }
      if (r.created()) {
        // Creation answers come in the order of the requests.
        if (pending_.empty()) continue;
        watchers_[r.watch_id()] = std::move(pending_.front());
        pending_.pop_front();
        // clientv3 keeps a plain creation answer to itself.
        if (r.events_size() == 0 && !r.canceled()) continue;
      }
      auto it = watchers_.find(r.watch_id());
      if (it == watchers_.end()) continue;
      Print(r, it->second);
      if (r.canceled()) watchers_.erase(it);
    }
  }

  // A watch the reader will print for once the server creates it.
  void Expect(std::vector<std::string> exec) {
    absl::MutexLock lock(&mu_);
    pending_.push_back(std::move(exec));
  }

  void Complain(const std::string& line) {
    absl::MutexLock lock(&mu_);
    *inv_.err << line;
    inv_.err->flush();
  }

 private:
  void Print(const pb::WatchResponse& r, const std::vector<std::string>& exec)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = PrintWatchResponse(inv_, r, exec);
    if (s.ok()) return;
    // etcdctl exits here, whatever the main thread is doing.
    *inv_.err << (IsRawMessage(s) ? "" : "Error: ") << s.message() << "\n";
    inv_.out->flush();
    inv_.err->flush();
    _exit(ExitCodeOf(s));
  }

  Invocation& inv_;
  absl::Mutex mu_;
  std::deque<std::vector<std::string>> pending_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::vector<std::string>> watchers_ ABSL_GUARDED_BY(mu_);
};

// One "watch ..." line's request, or a status: an "Invalid command" for
// the caller to print (kInvalidArgument), or an exit (any other).
absl::StatusOr<std::pair<pb::WatchRequest, WatchArgs>> ParseLine(
    const Invocation& inv, const std::string& line, const std::vector<std::string>& words) {
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  bool prefix = false, prev_kv = false, interactive = false;
  int64_t rev = 0;
  FlagSet fs;
  fs.Bool("interactive", &interactive, "Interactive mode", 'i');
  fs.Bool("prefix", &prefix, "Watch on a prefix if prefix is set");
  fs.Int64("rev", &rev, "Revision to start watching");
  fs.Bool("prev-kv", &prev_kv, "get the previous key-value pair before the event happens");
  std::vector<std::string> positional;
  if (!rest.empty() && rest.back() == "--") {
    return ExitError(kExitBadArgs, "bad number of arguments (found separator --, but no commands)");
  }
  if (absl::Status s = fs.Parse(rest, &positional); !s.ok()) {
    return ExitError(kExitBadArgs, s.message());
  }
  if (fs.args_before_dash() < 0 && positional.empty() && inv.watch_env_key.empty()) {
    return ExitError(kExitBadArgs, "bad number of arguments");
  }
  if (fs.args_before_dash() < 0 && !positional.empty() && !inv.watch_env_key.empty()) {
    return ExitError(kExitBadArgs, "bad number of arguments (found conflicting environment key)");
  }
  absl::StatusOr<WatchArgs> w =
      ParseWatchArgs(positional, fs.args_before_dash(), prefix, inv, /*interactive=*/true);
  if (!w.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("Invalid command %s (%s)\n", line, w.status().message()));
  }
  pb::WatchRequest req;
  FillCreate(*w, prefix, rev, prev_kv, req.mutable_create_request());
  return std::make_pair(std::move(req), *std::move(w));
}

}  // namespace

absl::Status InteractiveWatch(Invocation& inv) {
  if (!inv.remote_mode()) return ExitError(kExitError, "watch needs a server: pass --endpoints");
  absl::StatusOr<std::unique_ptr<RemoteChannel>> conn = RemoteChannel::Open(inv.remote);
  if (!conn.ok()) return conn.status();
  auto stub = pb::Watch::NewStub((*conn)->channel());
  grpc::ClientContext ctx;
  RemoteChannel::PrepareStream(&ctx);
  auto stream = stub->Watch(&ctx);
  Session session(inv);
  std::thread reader([&] { session.ReadAnswers(stream.get()); });
  absl::Status end;
  std::string line;
  // A last line without its newline is not read: etcdctl's ReadString
  // fails on it.
  while (std::getline(*inv.in, line) && !inv.in->eof()) {
    absl::StatusOr<std::vector<std::string>> words = Argify(line);
    if (!words.ok()) {
      end = words.status();
      break;
    }
    if (words->empty()) {
      session.Complain(
          absl::StrFormat("Invalid command: %s (watch and progress supported)\n", line));
      continue;
    }
    if ((*words)[0] == "progress") {
      pb::WatchRequest req;
      req.mutable_progress_request();
      stream->Write(req);
      continue;
    }
    if ((*words)[0] != "watch") {
      session.Complain(absl::StrFormat("Invalid command %s (only support watch)\n", line));
      continue;
    }
    if (words->size() < 2 && inv.watch_env_key.empty()) {
      session.Complain(
          absl::StrFormat("Invalid command %s (command type or key is not provided)\n", line));
      continue;
    }
    auto parsed = ParseLine(inv, line, *words);
    if (!parsed.ok()) {
      if (absl::IsInvalidArgument(parsed.status())) {
        session.Complain(std::string(parsed.status().message()));
        continue;
      }
      end = parsed.status();
      break;
    }
    session.Expect(parsed->second.exec);
    stream->Write(parsed->first);
  }
  if (end.ok()) end = ExitError(kExitInvalidInput, "Error reading watch request line: EOF");
  ctx.TryCancel();
  reader.join();
  stream->Finish().IgnoreError();
  return end;
}

}  // namespace revkv::cli
