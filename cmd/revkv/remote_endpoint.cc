// The per-endpoint commands of client mode -- endpoint status, health and
// hashkv, and defrag -- as etcdctl 3.4 runs them: each endpoint of
// --endpoints (or, with --cluster, every client URL of the member list)
// on its own connection, one row per endpoint answered. status, hashkv and
// defrag go through the endpoints in order and report a failure on stderr
// in their own words (exit 1 once all are done); health checks them side
// by side, as etcdctl does, so dead endpoints cost one command timeout,
// not one each.
//
// Thread-safety: health's checks run on threads of their own, each with
// its own connection; their results meet under a mutex.
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_maintenance.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

// etcdctl's exit without a line of its own (the failure was printed).
absl::Status QuietExit(int code) { return RawError(code, ""); }

absl::Status NoProtobuf() {
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

// etcdctl's endpointsFromCluster: --endpoints, or with --cluster the client
// URLs of every member the cluster lists.
absl::StatusOr<std::vector<std::string>> Endpoints(const Invocation& inv) {
  if (!inv.cluster) return inv.remote.endpoints;
  absl::StatusOr<Stubbed<pb::Cluster>> c = Dial<pb::Cluster>(inv.remote);
  if (!c.ok()) return c.status();
  pb::MemberListResponse resp;
  grpc::ClientContext ctx;
  c->conn->Prepare(&ctx);
  if (grpc::Status s = c->stub->MemberList(&ctx, pb::MemberListRequest(), &resp); !s.ok()) {
    return ExitError(kExitError,
                     absl::StrCat("failed to fetch endpoints from etcd cluster member list: ",
                                  FromGrpc(s).message()));
  }
  std::vector<std::string> eps;
  for (const pb::Member& m : resp.members()) {
    eps.insert(eps.end(), m.clienturls().begin(), m.clienturls().end());
  }
  return eps;
}

struct Answered {
  std::string endpoint;
  pb::StatusResponse status;
  pb::HashKVResponse hash;
};

// One call per endpoint, in order: `call` fills `a` or fails; a failure
// prints `what` ("status", "hash") on stderr. The last failure, if any.
absl::Status EachEndpoint(
    const Invocation& inv, const std::vector<std::string>& eps, const char* what,
    const std::function<grpc::Status(pb::Maintenance::Stub&, grpc::ClientContext*, Answered*)>&
        call,
    std::vector<Answered>* answered) {
  absl::Status failed;
  for (const std::string& ep : eps) {
    absl::StatusOr<Stubbed<pb::Maintenance>> m = Dial<pb::Maintenance>(inv.remote.For(ep));
    if (!m.ok()) return m.status();
    Answered a;
    a.endpoint = ep;
    grpc::ClientContext ctx;
    m->conn->Prepare(&ctx);
    if (grpc::Status s = call(*m->stub, &ctx, &a); !s.ok()) {
      failed = FromGrpc(s);
      *inv.err << absl::StrFormat("Failed to get the %s of endpoint %s (%s)\n", what, ep,
                                  failed.message());
      continue;
    }
    answered->push_back(std::move(a));
  }
  return failed;
}

std::vector<std::string> StatusRow(const Answered& a) {
  const pb::StatusResponse& r = a.status;
  return {a.endpoint,
          absl::StrFormat("%x", r.header().member_id()),
          r.version(),
          HumanizeBytes(uint64_t(r.dbsize())),
          r.leader() == r.header().member_id() ? "true" : "false",
          r.islearner() ? "true" : "false",
          std::to_string(r.raftterm()),
          std::to_string(r.raftindex()),
          std::to_string(r.raftappliedindex()),
          absl::StrJoin(r.errors(), ", ")};
}

std::string StatusJson(const Answered& a) {
  const pb::StatusResponse& r = a.status;
  std::string s = "\"header\":" + HeaderJsonObject(r.header());
  if (!r.version().empty()) s += ",\"version\":" + JsonString(r.version());
  if (r.dbsize() != 0) s += absl::StrFormat(",\"dbSize\":%d", r.dbsize());
  if (r.leader() != 0) s += absl::StrFormat(",\"leader\":%d", r.leader());
  if (r.raftindex() != 0) s += absl::StrFormat(",\"raftIndex\":%d", r.raftindex());
  if (r.raftterm() != 0) s += absl::StrFormat(",\"raftTerm\":%d", r.raftterm());
  if (r.raftappliedindex() != 0) {
    s += absl::StrFormat(",\"raftAppliedIndex\":%d", r.raftappliedindex());
  }
  if (r.errors_size() > 0) {
    std::vector<std::string> es;
    for (const std::string& e : r.errors()) es.push_back(JsonString(e));
    s += ",\"errors\":[" + absl::StrJoin(es, ",") + "]";
  }
  if (r.dbsizeinuse() != 0) s += absl::StrFormat(",\"dbSizeInUse\":%d", r.dbsizeinuse());
  if (r.islearner()) s += ",\"isLearner\":true";
  return "{\"Endpoint\":" + JsonString(a.endpoint) + ",\"Status\":{" + s + "}}";
}

// etcdctl's fieldsPrinter.EndpointStatus for one endpoint; Go's %v of a
// []string is "[a b]".
std::string StatusFields(const Answered& a) {
  const pb::StatusResponse& r = a.status;
  return HeaderFieldLines(r.header()) +
         absl::StrFormat(
             "\"Version\" : %s\n\"DBSize\" : %d\n\"Leader\" : %d\n\"IsLearner\" : %s\n"
             "\"RaftIndex\" : %d\n\"RaftTerm\" : %d\n\"RaftAppliedIndex\" : %d\n"
             "\"Errors\" : [%s]\n\"Endpoint\" : %s\n\n",
             GoQuote(r.version()), r.dbsize(), r.leader(), r.islearner() ? "true" : "false",
             r.raftindex(), r.raftterm(), r.raftappliedindex(), absl::StrJoin(r.errors(), " "),
             GoQuote(a.endpoint));
}

std::string HashJson(const Answered& a) {
  std::string s = "\"header\":" + HeaderJsonObject(a.hash.header());
  if (a.hash.hash() != 0) s += absl::StrFormat(",\"hash\":%d", a.hash.hash());
  if (a.hash.compact_revision() != 0) {
    s += absl::StrFormat(",\"compact_revision\":%d", a.hash.compact_revision());
  }
  return "{\"Endpoint\":" + JsonString(a.endpoint) + ",\"HashKV\":{" + s + "}}";
}

// The list as etcdctl's printers print it: simple rows joined by ", ", a
// JSON array, fields blocks, or one table.
absl::StatusOr<std::string> ListText(Format f, const std::vector<Answered>& list,
                                     const std::vector<std::string>& header,
                                     std::vector<std::string> (*row)(const Answered&),
                                     std::string (*json)(const Answered&),
                                     std::string (*fields)(const Answered&)) {
  std::string out;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> items;
  for (const Answered& a : list) {
    rows.push_back(row(a));
    items.push_back(json(a));
    if (f == Format::kFields) out += fields(a);
  }
  switch (f) {
    case Format::kSimple:
      for (const auto& r : rows) out += absl::StrJoin(r, ", ") + "\n";
      return out;
    case Format::kJson: return "[" + absl::StrJoin(items, ",") + "]\n";
    case Format::kFields: return out;
    case Format::kTable: return Table(header, rows);
    case Format::kProtobuf: break;
  }
  return NoProtobuf();
}

std::vector<std::string> HashRow(const Answered& a) {
  return {a.endpoint, std::to_string(a.hash.hash())};
}

std::string HashFields(const Answered& a) {
  return HeaderFieldLines(a.hash.header()) +
         absl::StrFormat("\"Endpoint\" : %s\n\"Hash\" : %d\n\n", GoQuote(a.endpoint),
                         a.hash.hash());
}

// One endpoint's health as etcdctl checks it: a linearizable get of key
// "health" answered (or refused for permissions) and no alarm raised.
EndpointHealth CheckHealth(const Invocation& inv, const std::string& ep) {
  EndpointHealth h;
  h.endpoint = ep;
  absl::StatusOr<Stubbed<pb::Maintenance>> m = Dial<pb::Maintenance>(inv.remote.For(ep));
  if (!m.ok()) {
    h.error = std::string(m.status().message());
    return h;
  }
  const absl::Time start = absl::Now();
  auto kv = pb::KV::NewStub(m->conn->channel());
  pb::RangeRequest req;
  req.set_key("health");
  pb::RangeResponse resp;
  grpc::ClientContext ctx;
  m->conn->Prepare(&ctx);
  grpc::Status s = kv->Range(&ctx, req, &resp);
  h.took = FormatGoDuration(absl::Now() - start);
  h.health = s.ok() || s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
  if (!h.health) {
    h.error = std::string(FromGrpc(s).message());
    return h;
  }
  absl::StatusOr<pb::AlarmResponse> alarms = ListAlarms(*m);
  if (!alarms.ok()) {
    h.health = false;
    h.error = "Unable to fetch the alarm list";
  } else if (alarms->alarms_size() > 0) {
    h.health = false;
    h.error = "Active Alarm(s): ";
    for (const pb::AlarmMember& a : alarms->alarms()) {
      switch (a.alarm()) {
        case pb::NOSPACE: h.error += "NOSPACE "; break;
        case pb::CORRUPT: h.error += "CORRUPT "; break;
        default: h.error += "UNKNOWN "; break;
      }
    }
  }
  return h;
}

}  // namespace

absl::Status RemoteEndpointStatus(Invocation& inv) {
  absl::StatusOr<std::vector<std::string>> eps = Endpoints(inv);
  if (!eps.ok()) return eps.status();
  std::vector<Answered> list;
  const absl::Status failed = EachEndpoint(
      inv, *eps, "status",
      [](pb::Maintenance::Stub& stub, grpc::ClientContext* ctx, Answered* a) {
        return stub.Status(ctx, pb::StatusRequest(), &a->status);
      },
      &list);
  absl::StatusOr<std::string> text =
      ListText(inv.format, list,
               {"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM",
                "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS"},
               StatusRow, StatusJson, StatusFields);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  // etcdctl exits 1 without an "Error:" line.
  return failed.ok() ? absl::OkStatus() : QuietExit(kExitError);
}

absl::Status RemoteEndpointHashKV(Invocation& inv) {
  absl::StatusOr<std::vector<std::string>> eps = Endpoints(inv);
  if (!eps.ok()) return eps.status();
  std::vector<Answered> list;
  const int64_t rev = inv.hash_rev;
  const absl::Status failed = EachEndpoint(
      inv, *eps, "hash",
      [rev](pb::Maintenance::Stub& stub, grpc::ClientContext* ctx, Answered* a) {
        pb::HashKVRequest req;
        req.set_revision(rev);
        return stub.HashKV(ctx, req, &a->hash);
      },
      &list);
  absl::StatusOr<std::string> text =
      ListText(inv.format, list, {"ENDPOINT", "HASH"}, HashRow, HashJson, HashFields);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  // etcdctl ends with an "Error:" line naming the last failure.
  return failed;
}

absl::Status RemoteEndpointHealth(Invocation& inv) {
  absl::StatusOr<std::vector<std::string>> eps = Endpoints(inv);
  if (!eps.ok()) return eps.status();
  // In the order the checks end, as etcdctl collects them: a dead
  // endpoint's row comes last.
  std::vector<EndpointHealth> hs;
  absl::Mutex mu;
  {
    std::vector<std::thread> checks;
    for (const std::string& ep : *eps) {
      checks.emplace_back([&inv, &ep, &hs, &mu] {
        EndpointHealth h = CheckHealth(inv, ep);
        absl::MutexLock lock(&mu);
        hs.push_back(std::move(h));
      });
    }
    for (std::thread& t : checks) t.join();
  }
  absl::StatusOr<HealthText> text = PrintEndpointHealth(inv.format, hs);
  if (!text.ok()) return text.status();
  *inv.out << text->out;
  inv.out->flush();
  *inv.err << text->err;
  for (const EndpointHealth& h : hs) {
    if (!h.error.empty()) return ExitError(kExitError, "unhealthy cluster");
  }
  return absl::OkStatus();
}

absl::Status RemoteDefrag(Invocation& inv) {
  absl::StatusOr<std::vector<std::string>> eps = Endpoints(inv);
  if (!eps.ok()) return eps.status();
  bool failed = false;
  for (const std::string& ep : *eps) {
    absl::StatusOr<Stubbed<pb::Maintenance>> m = Dial<pb::Maintenance>(inv.remote.For(ep));
    if (!m.ok()) return m.status();
    pb::DefragmentResponse resp;
    grpc::ClientContext ctx;
    m->conn->Prepare(&ctx);
    if (grpc::Status s = m->stub->Defragment(&ctx, pb::DefragmentRequest(), &resp); !s.ok()) {
      *inv.err << absl::StrFormat("Failed to defragment etcd member[%s] (%s)\n", ep,
                                  FromGrpc(s).message());
      failed = true;
      continue;
    }
    *inv.out << absl::StrFormat("Finished defragmenting etcd member[%s]\n", ep);
  }
  return failed ? QuietExit(kExitError) : absl::OkStatus();
}

}  // namespace revkv::cli
