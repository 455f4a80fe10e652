// watch in client mode: etcd's Watch stream, printed as etcdctl 3.4's
// watch prints each response -- simple: the event type, then the previous
// key and value (--prev-kv), then the key and value; json: clientv3's
// WatchResponse struct; fields: the header and each event's key values.
// It runs until killed; a watch the server cancels (a compacted --rev)
// prints "watch was canceled (...)" and fails with exit code 5, as
// etcdctl's does. A broken stream is reopened from the next revision, as
// clientv3 retries. `watch KEY -- CMD ARGS` runs CMD per event
// (remote_watch_exec.h); -i reads watch lines from stdin
// (remote_watch_interactive.cc).
//
// Thread-safety: used by one thread.
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/op_parse.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_kv.h"
#include "cmd/revkv/remote_printer.h"
#include "cmd/revkv/remote_watch.h"
#include "cmd/revkv/remote_watch_exec.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

constexpr int kExitInterrupted = 5;

const char* TypeName(const mvccpb::Event& e) {
  return e.type() == mvccpb::Event::DELETE ? "DELETE" : "PUT";
}

// etcdctl's printKV for simple output.
std::string SimpleKv(const mvccpb::KeyValue& kv, bool hex) {
  return (hex ? HexBytes(kv.key()) : kv.key()) + "\n" +
         (hex ? HexBytes(kv.value()) : kv.value()) + "\n";
}

}  // namespace

absl::StatusOr<std::string> WatchText(const Invocation& inv, const pb::WatchResponse& r) {
  switch (inv.format) {
    case Format::kSimple: {
      std::string out;
      for (const mvccpb::Event& e : r.events()) {
        out += std::string(TypeName(e)) + "\n";
        if (e.has_prev_kv()) out += SimpleKv(e.prev_kv(), inv.hex);
        out += SimpleKv(e.kv(), inv.hex);
      }
      return out;
    }
    case Format::kJson: {
      std::string events;
      for (const mvccpb::Event& e : r.events()) {
        std::string ev = "{";
        if (e.type() != mvccpb::Event::PUT) ev += absl::StrFormat("\"type\":%d,", int(e.type()));
        ev += "\"kv\":" + KeyValueJson(KeyValueFromProto(e.kv()));
        if (e.has_prev_kv()) ev += ",\"prev_kv\":" + KeyValueJson(KeyValueFromProto(e.prev_kv()));
        events += (events.empty() ? "" : ",") + ev + "}";
      }
      return absl::StrFormat(
          "{\"Header\":%s,\"Events\":[%s],\"CompactRevision\":%d,\"Canceled\":%s,"
          "\"Created\":false}\n",
          HeaderJsonObject(r.header()), events, r.compact_revision(),
          r.canceled() ? "true" : "false");
    }
    case Format::kFields: {
      std::string out = HeaderFieldLines(r.header());
      for (const mvccpb::Event& e : r.events()) {
        out += absl::StrFormat("\"Type\" : %s\n", TypeName(e));
        if (e.has_prev_kv()) out += FieldsKv("Prev", KeyValueFromProto(e.prev_kv()));
        out += FieldsKv("", KeyValueFromProto(e.kv()));
      }
      return out;
    }
    case Format::kTable: return ExitError(kExitBadFeature, "table not supported as output format");
    case Format::kProtobuf: break;
  }
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

// clientv3's WatchResponse.Err() text for a canceled watch.
std::string CancelText(const pb::WatchResponse& r) {
  if (r.compact_revision() != 0) return "etcdserver: mvcc: required revision has been compacted";
  if (!r.cancel_reason().empty()) return r.cancel_reason();
  return "<nil>";
}

absl::StatusOr<WatchArgs> ParseWatchArgs(const std::vector<std::string>& positional,
                                         int before_dash, bool prefix, const Invocation& inv,
                                         bool interactive) {
  WatchArgs w;
  std::vector<std::string> words = positional;
  if (before_dash >= 0) {
    w.exec.assign(positional.begin() + before_dash, positional.end());
    if (w.exec.empty()) {
      return ExitError(kExitBadArgs,
                       "bad number of arguments (found separator --, but no commands)");
    }
  }
  // ETCDCTL_WATCH_KEY (and _RANGE_END) stand for the key words, which the
  // command line must then leave out.
  if (!inv.watch_env_key.empty()) {
    const bool keys_given = before_dash >= 0 ? before_dash > 0 : !positional.empty();
    if (!interactive && keys_given) {
      return ExitError(kExitBadArgs, "bad number of arguments (found conflicting environment key)");
    }
    std::vector<std::string> env = {inv.watch_env_key};
    if (!inv.watch_env_range.empty()) env.push_back(inv.watch_env_range);
    words.insert(words.begin(), env.begin(), env.end());
  }
  if (!w.exec.empty()) {
    // etcdctl keeps the words before the last one equal to the command's
    // name (a quirk when the name comes again among its arguments).
    size_t end = words.size();
    while (end > 0 && words[end - 1] != w.exec[0]) --end;
    words.resize(end > 0 ? end - 1 : 0);
  }
  w.keys = std::move(words);
  if (w.keys.empty()) return ExitError(kExitBadArgs, "bad number of arguments");
  if (w.keys.size() >= 2 && prefix) {
    return ExitError(kExitBadArgs, "`range_end` and `--prefix` are mutually exclusive");
  }
  return w;
}

void FillCreate(const WatchArgs& w, bool prefix, int64_t rev, bool prev_kv,
                pb::WatchCreateRequest* c) {
  c->set_key(w.keys[0]);
  if (w.keys.size() >= 2) c->set_range_end(w.keys[1]);
  if (prefix) {
    // clientv3's WithPrefix on "": every key, from "\0".
    if (w.keys[0].empty()) c->set_key(std::string(1, '\0'));
    c->set_range_end(w.keys[0].empty() ? std::string(1, '\0') : PrefixEnd(w.keys[0]));
  }
  c->set_start_revision(rev);
  c->set_prev_kv(prev_kv);
}

absl::Status PrintWatchResponse(const Invocation& inv, const pb::WatchResponse& r,
                                const std::vector<std::string>& exec) {
  if (r.canceled()) *inv.err << "watch was canceled (" << CancelText(r) << ")\n";
  if (r.events_size() == 0 && !r.canceled() && !r.created() && r.compact_revision() == 0 &&
      r.header().revision() != 0) {
    *inv.out << "progress notify: " << r.header().revision() << "\n";
  }
  absl::StatusOr<std::string> text = WatchText(inv, r);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  inv.out->flush();
  if (!exec.empty()) return RunForEvents(exec, r);
  return absl::OkStatus();
}

absl::Status WatchCommand(Invocation& inv) {
  if (inv.watch_env_key.empty() && !inv.watch_env_range.empty()) {
    return ExitError(kExitBadArgs, absl::StrFormat("ETCDCTL_WATCH_KEY is empty but got "
                                                   "ETCDCTL_WATCH_RANGE_END=%s",
                                                   GoQuote(inv.watch_env_range)));
  }
  if (inv.watch_interactive) return InteractiveWatch(inv);
  absl::StatusOr<WatchArgs> w =
      ParseWatchArgs(inv.args, inv.args_before_dash, inv.watch_prefix, inv, false);
  if (!w.ok()) return w.status();
  if (!inv.remote_mode()) {
    return ExitError(kExitError, "watch needs a server: pass --endpoints");
  }
  // -w table fails at the first answer, as etcdctl's printer does.
  absl::StatusOr<std::unique_ptr<RemoteChannel>> conn = RemoteChannel::Open(inv.remote);
  if (!conn.ok()) return conn.status();
  auto stub = pb::Watch::NewStub((*conn)->channel());
  pb::WatchRequest create;
  pb::WatchCreateRequest* c = create.mutable_create_request();
  FillCreate(*w, inv.watch_prefix, inv.watch_rev, inv.watch_prev_kv, c);
  while (true) {
    grpc::ClientContext ctx;
    RemoteChannel::PrepareStream(&ctx);
    auto stream = stub->Watch(&ctx);
    pb::WatchResponse r;
    if (stream->Write(create)) {
      while (stream->Read(&r)) {
        // clientv3 keeps the creation answer to itself.
        if (r.created() && r.events_size() == 0 && !r.canceled()) continue;
        if (absl::Status s = PrintWatchResponse(inv, r, w->exec); !s.ok()) {
          ctx.TryCancel();
          stream->Finish().IgnoreError();
          return s;
        }
        if (r.canceled()) {
          ctx.TryCancel();
          stream->Finish().IgnoreError();
          return ExitError(kExitInterrupted, "watch is canceled by the server");
        }
        // A reopened stream resumes after what was printed.
        if (r.events_size() > 0) {
          c->set_start_revision(r.events(r.events_size() - 1).kv().mod_revision() + 1);
        }
      }
    }
    ctx.TryCancel();
    stream->Finish().IgnoreError();
    absl::SleepFor(absl::Milliseconds(500));
  }
}

}  // namespace revkv::cli
