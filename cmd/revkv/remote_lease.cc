// lease grant / revoke / timetolive / list / keep-alive: client mode only
// (a data directory has no lease clock), over etcd's Lease service, printed
// as etcdctl 3.4 prints them. Exit codes are etcdctl's: bad arguments 128,
// grant and revoke failures 1 ("failed to grant lease (...)"), timetolive,
// list and keep-alive failures 2 (etcdctl's ExitBadConnection) with the
// server's message. Where etcdctl waits forever on an unanswering endpoint
// (its timetolive, list and keep-alive --once use no deadline), these give
// up at --command-timeout with "context deadline exceeded".
//
// The table format is refused after the call, as etcdctl's printer does
// (a `-w table lease grant` grants a lease, then fails with exit 4).
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

constexpr int kExitBadConnection = 2;

absl::Status NotSupported(Format f) {
  if (f == Format::kTable) return ExitError(kExitBadFeature, "table not supported as output format");
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

// Go's strconv.ParseInt(s, base, 64), with its error words.
bool ParseInt(const std::string& s, int base, int64_t* v, std::string* err) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  unsigned __int128 acc = 0;
  bool range = false;
  if (i >= s.size()) {
    *err = absl::StrFormat("strconv.ParseInt: parsing %s: invalid syntax", GoQuote(s));
    return false;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    int d = 99;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
    if (d >= base) {
      *err = absl::StrFormat("strconv.ParseInt: parsing %s: invalid syntax", GoQuote(s));
      return false;
    }
    acc = acc * unsigned(base) + unsigned(d);
    if (acc > (unsigned __int128)(uint64_t(1) << 63)) {
      // Past int64 either way; keep scanning for a syntax error, as Go does.
      range = true;
      acc = uint64_t(1) << 63;
    }
  }
  if (range || (!neg && acc == (unsigned __int128)(uint64_t(1) << 63))) {
    *err = absl::StrFormat("strconv.ParseInt: parsing %s: value out of range", GoQuote(s));
    return false;
  }
  *v = neg ? int64_t(uint64_t(0) - uint64_t(acc)) : int64_t(uint64_t(acc));
  return true;
}

// The lease id argument (hex), or etcdctl's bad-argument error.
absl::StatusOr<int64_t> LeaseId(const std::string& arg) {
  int64_t id;
  std::string err;
  if (!ParseInt(arg, 16, &id, &err)) {
    return ExitError(kExitBadArgs,
                     absl::StrFormat("bad lease ID arg (%s), expecting ID in Hex", err));
  }
  return id;
}

using Lease = Stubbed<pb::Lease>;
absl::StatusOr<Lease> Dial(const Invocation& inv) { return Dial<pb::Lease>(inv.remote); }

// A failed call with exit code `code`; a non-empty `what` puts etcdctl's
// words around the message ("failed to <what> (<message>)").
absl::Status CallError(const grpc::Status& s, int code, absl::string_view what = "") {
  absl::Status e = FromGrpc(s);
  absl::Status out = ExitError(
      code, what.empty() ? std::string(e.message())
                         : absl::StrCat("failed to ", what, " (", e.message(), ")"));
  e.ForEachPayload([&](absl::string_view url, const absl::Cord& p) {
    if (url != kExitCodeUrl) out.SetPayload(url, p);
  });
  return out;
}

absl::Status NeedServer() {
  return ExitError(kExitError,
                   "lease commands need a server: pass --endpoints (a data directory has no "
                   "lease clock)");
}

// etcdctl's printers for one keep-alive answer.
absl::StatusOr<std::string> KeepAliveText(Format f, const pb::LeaseKeepAliveResponse& r) {
  switch (f) {
    case Format::kSimple:
      return absl::StrFormat("lease %s keepalived with TTL(%d)\n", LeaseHex(r.id()), r.ttl());
    case Format::kJson:
      return JsonWithHeader(r.header(), absl::StrFormat("\"ID\":%d,\"TTL\":%d", r.id(), r.ttl())) +
             "\n";
    case Format::kFields:
      return HeaderFieldLines(r.header()) +
             absl::StrFormat("\"ID\" : %d\n\"TTL\" : %d\n", r.id(), r.ttl());
    default:
      return NotSupported(f);
  }
}

absl::Status Print(Invocation& inv, const absl::StatusOr<std::string>& text) {
  if (!text.ok()) return text.status();
  *inv.out << *text;
  inv.out->flush();
  return absl::OkStatus();
}

// keep-alive without --once: etcdctl's client keeps the lease alive until
// the process is killed, sending every TTL/3 seconds (at most every 0.5s),
// and ends when the server says the lease is gone or no answer came before
// the lease would have expired.
absl::Status KeepAliveForever(Invocation& inv, Lease& l, int64_t id) {
  absl::Time deadline = absl::Now() + inv.remote.command_timeout;
  while (absl::Now() < deadline) {
    // No deadline and no waiting for a connection: a broken stream fails
    // fast and the loop opens another until the lease would have expired.
    grpc::ClientContext ctx;
    auto stream = l.stub->LeaseKeepAlive(&ctx);
    pb::LeaseKeepAliveRequest req;
    req.set_id(id);
    pb::LeaseKeepAliveResponse resp;
    while (stream->Write(req) && stream->Read(&resp)) {
      if (resp.ttl() <= 0) {
        ctx.TryCancel();
        deadline = absl::InfinitePast();
        break;
      }
      if (absl::Status s = Print(inv, KeepAliveText(inv.format, resp)); !s.ok()) {
        ctx.TryCancel();
        return s;
      }
      deadline = absl::Now() + absl::Seconds(resp.ttl());
      absl::SleepFor(std::max(absl::Seconds(resp.ttl() / 3), absl::Milliseconds(500)));
    }
    ctx.TryCancel();
    stream->Finish().IgnoreError();
    if (absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(500));
  }
  if (inv.format == Format::kSimple) {
    *inv.out << absl::StrFormat("lease %s expired or revoked.\n", LeaseHex(id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LeaseGrantCommand(Invocation& inv) {
  if (inv.args.size() != 1) return ExitError(kExitBadArgs, "lease grant command needs TTL argument");
  int64_t ttl;
  std::string err;
  if (!ParseInt(inv.args[0], 10, &ttl, &err)) {
    return ExitError(kExitBadArgs, absl::StrFormat("bad TTL (%s)", err));
  }
  if (!inv.remote_mode()) return NeedServer();
  absl::StatusOr<Lease> l = Dial(inv);
  if (!l.ok()) return l.status();
  pb::LeaseGrantRequest req;
  req.set_ttl(ttl);
  pb::LeaseGrantResponse resp;
  grpc::ClientContext ctx;
  l->conn->Prepare(&ctx);
  if (grpc::Status s = l->stub->LeaseGrant(&ctx, req, &resp); !s.ok()) {
    return CallError(s, kExitError, "grant lease");
  }
  switch (inv.format) {
    case Format::kSimple:
      return Print(inv, absl::StrFormat("lease %s granted with TTL(%ds)\n", LeaseHex(resp.id()),
                                        resp.ttl()));
    case Format::kJson:
      return Print(inv, JsonWithHeader(resp.header(),
                                       absl::StrFormat("\"ID\":%d,\"TTL\":%d,\"Error\":%s",
                                                       resp.id(), resp.ttl(),
                                                       JsonString(resp.error()))) +
                            "\n");
    case Format::kFields:
      return Print(inv, HeaderFieldLines(resp.header()) +
                            absl::StrFormat("\"ID\" : %d\n\"TTL\" : %d\n", resp.id(), resp.ttl()));
    default:
      return NotSupported(inv.format);
  }
}

absl::Status LeaseRevokeCommand(Invocation& inv) {
  if (inv.args.size() != 1) return ExitError(kExitBadArgs, "lease revoke command needs 1 argument");
  absl::StatusOr<int64_t> id = LeaseId(inv.args[0]);
  if (!id.ok()) return id.status();
  if (!inv.remote_mode()) return NeedServer();
  absl::StatusOr<Lease> l = Dial(inv);
  if (!l.ok()) return l.status();
  pb::LeaseRevokeRequest req;
  req.set_id(*id);
  pb::LeaseRevokeResponse resp;
  grpc::ClientContext ctx;
  l->conn->Prepare(&ctx);
  if (grpc::Status s = l->stub->LeaseRevoke(&ctx, req, &resp); !s.ok()) {
    return CallError(s, kExitError, "revoke lease");
  }
  switch (inv.format) {
    case Format::kSimple: return Print(inv, absl::StrFormat("lease %s revoked\n", LeaseHex(*id)));
    case Format::kJson:
      return Print(inv, "{\"header\":" + HeaderJsonObject(resp.header()) + "}\n");
    case Format::kFields: return Print(inv, HeaderFieldLines(resp.header()));
    default: return NotSupported(inv.format);
  }
}

absl::Status LeaseTimeToLiveCommand(Invocation& inv) {
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "lease timetolive command needs lease ID as argument");
  }
  absl::StatusOr<int64_t> id = LeaseId(inv.args[0]);
  if (!id.ok()) return id.status();
  if (!inv.remote_mode()) return NeedServer();
  absl::StatusOr<Lease> l = Dial(inv);
  if (!l.ok()) return l.status();
  pb::LeaseTimeToLiveRequest req;
  req.set_id(*id);
  req.set_keys(inv.lease_keys);
  pb::LeaseTimeToLiveResponse r;
  grpc::ClientContext ctx;
  l->conn->Prepare(&ctx);
  if (grpc::Status s = l->stub->LeaseTimeToLive(&ctx, req, &r); !s.ok()) {
    return CallError(s, kExitBadConnection);
  }
  switch (inv.format) {
    case Format::kSimple: {
      if (r.grantedttl() == 0 && r.ttl() == -1) {
        return Print(inv, absl::StrFormat("lease %s already expired\n", LeaseHex(r.id())));
      }
      std::string text = absl::StrFormat("lease %s granted with TTL(%ds), remaining(%ds)",
                                         LeaseHex(r.id()), r.grantedttl(), r.ttl());
      // Go's %v of a []string.
      if (inv.lease_keys) text += ", attached keys([" + absl::StrJoin(r.keys(), " ") + "])";
      return Print(inv, text + "\n");
    }
    case Format::kJson: {
      std::string keys = "null";
      if (r.keys_size() > 0) {
        keys = "[";
        for (int i = 0; i < r.keys_size(); ++i) {
          keys += (i ? ",\"" : "\"") + Base64(r.keys(i)) + "\"";
        }
        keys += "]";
      }
      return Print(inv, JsonWithHeader(r.header(),
                                       absl::StrFormat(
                                           "\"id\":%d,\"ttl\":%d,\"granted-ttl\":%d,\"keys\":%s",
                                           r.id(), r.ttl(), r.grantedttl(), keys)) +
                            "\n");
    }
    case Format::kFields: {
      std::string text = HeaderFieldLines(r.header()) +
                         absl::StrFormat("\"ID\" : %d\n\"TTL\" : %d\n\"GrantedTTL\" : %d\n",
                                         r.id(), r.ttl(), r.grantedttl());
      for (const std::string& k : r.keys()) text += "\"Key\" : " + GoQuote(k) + "\n";
      return Print(inv, text);
    }
    default: return NotSupported(inv.format);
  }
}

absl::Status LeaseListCommand(Invocation& inv) {
  if (!inv.remote_mode()) return NeedServer();
  absl::StatusOr<Lease> l = Dial(inv);
  if (!l.ok()) return l.status();
  pb::LeaseLeasesResponse r;
  grpc::ClientContext ctx;
  l->conn->Prepare(&ctx);
  if (grpc::Status s = l->stub->LeaseLeases(&ctx, pb::LeaseLeasesRequest(), &r); !s.ok()) {
    return CallError(s, kExitBadConnection);
  }
  switch (inv.format) {
    case Format::kSimple: {
      std::string text = absl::StrFormat("found %d leases\n", r.leases_size());
      for (const pb::LeaseStatus& ls : r.leases()) text += LeaseHex(ls.id()) + "\n";
      return Print(inv, text);
    }
    case Format::kJson: {
      std::string leases;
      for (const pb::LeaseStatus& ls : r.leases()) {
        leases += absl::StrFormat("%s{\"id\":%d}", leases.empty() ? "" : ",", ls.id());
      }
      return Print(inv, JsonWithHeader(r.header(), "\"leases\":[" + leases + "]") + "\n");
    }
    case Format::kFields: {
      std::string text = HeaderFieldLines(r.header());
      for (const pb::LeaseStatus& ls : r.leases()) text += absl::StrFormat("\"ID\" : %d\n", ls.id());
      return Print(inv, text);
    }
    default: return NotSupported(inv.format);
  }
}

absl::Status LeaseKeepAliveCommand(Invocation& inv) {
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "lease keep-alive command needs lease ID as argument");
  }
  absl::StatusOr<int64_t> id = LeaseId(inv.args[0]);
  if (!id.ok()) return id.status();
  if (!inv.remote_mode()) return NeedServer();
  absl::StatusOr<Lease> l = Dial(inv);
  if (!l.ok()) return l.status();
  if (!inv.lease_once) return KeepAliveForever(inv, *l, *id);
  grpc::ClientContext ctx;
  l->conn->Prepare(&ctx);
  auto stream = l->stub->LeaseKeepAlive(&ctx);
  pb::LeaseKeepAliveRequest req;
  req.set_id(*id);
  pb::LeaseKeepAliveResponse resp;
  const bool answered = stream->Write(req) && stream->Read(&resp);
  ctx.TryCancel();
  grpc::Status s = stream->Finish();
  if (!answered) {
    if (s.ok()) s = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the keep-alive stream ended");
    return CallError(s, kExitBadConnection);
  }
  if (resp.ttl() <= 0) {
    // clientv3's KeepAliveOnce turns a TTL of 0 into ErrLeaseNotFound.
    return CallError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                  "etcdserver: requested lease not found"),
                     kExitBadConnection);
  }
  return Print(inv, KeepAliveText(inv.format, resp));
}

}  // namespace revkv::cli
