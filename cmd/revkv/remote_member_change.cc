// member add / remove / update / promote and move-leader in client mode,
// over etcd's Cluster and Maintenance services, with etcdctl 3.4's
// argument checks, output and exit codes. Its printers know only simple
// and json for these answers: fields and table fail with "... not
// supported as output format" (exit 4) -- after the change was made, as
// etcdctl's do. One difference: etcdctl's json printer of member promote
// dereferences nil and panics; revkv prints the answer as json.
//
// Thread-safety: used by one thread.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

absl::Status NeedsServer(const Invocation& inv, const char* what) {
  if (inv.remote_mode()) return absl::OkStatus();
  return ExitError(kExitError, absl::StrCat(what, " needs a server: pass --endpoints"));
}

// Go's strconv.ParseUint(s, 16, 64), with its error text.
absl::StatusOr<uint64_t> ParseHex(const std::string& s) {
  auto fail = [&s](const char* why) {
    return absl::InvalidArgumentError(
        absl::StrFormat("strconv.ParseUint: parsing %s: %s", GoQuote(s), why));
  };
  if (s.empty()) return fail("invalid syntax");
  uint64_t v = 0;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return fail("invalid syntax");
    if (v >> 60 != 0) return fail("value out of range");
    const int d = absl::ascii_isdigit(static_cast<unsigned char>(c))
                      ? c - '0'
                      : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    v = v << 4 | uint64_t(d);
  }
  return v;
}

// The member id argument of remove / update / promote.
absl::StatusOr<uint64_t> MemberId(const Invocation& inv) {
  if (inv.args.size() != 1) return ExitError(kExitBadArgs, "member ID is not provided");
  absl::StatusOr<uint64_t> id = ParseHex(inv.args[0]);
  if (!id.ok()) {
    return ExitError(kExitBadArgs, absl::StrFormat("bad member ID arg (%s), expecting ID in Hex",
                                                   id.status().message()));
  }
  return id;
}

// Only simple and json print these answers in etcdctl.
absl::Status Unsupported(Format f) {
  switch (f) {
    case Format::kFields:
      return ExitError(kExitBadFeature, "fields not supported as output format");
    case Format::kTable:
      return ExitError(kExitBadFeature, "table not supported as output format");
    default:
      return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
  }
}

// `{"header":...,"members":[...]}` of remove / update / promote.
template <typename Resp>
std::string MembersAnswerJson(const Resp& r) {
  std::string out = "{\"header\":" + HeaderJsonObject(r.header());
  if (r.members_size() > 0) out += "," + MembersJson(r.members());
  return out + "}\n";
}

// One Cluster call against the endpoints; the answer printed by `text`
// (simple) or as json.
template <typename Req, typename Resp>
absl::Status ClusterCall(Invocation& inv, const Req& req,
                         grpc::Status (pb::Cluster::Stub::*call)(grpc::ClientContext*, const Req&,
                                                                 Resp*),
                         const std::function<std::string(const Resp&)>& simple,
                         const std::function<std::string(const Resp&)>& json) {
  absl::StatusOr<Stubbed<pb::Cluster>> c = Dial<pb::Cluster>(inv.remote);
  if (!c.ok()) return c.status();
  Resp resp;
  grpc::ClientContext ctx;
  c->conn->Prepare(&ctx);
  if (grpc::Status s = ((*c->stub).*call)(&ctx, req, &resp); !s.ok()) return FromGrpc(s);
  switch (inv.format) {
    case Format::kSimple:
      *inv.out << simple(resp);
      return absl::OkStatus();
    case Format::kJson:
      *inv.out << json(resp);
      return absl::OkStatus();
    default:
      return Unsupported(inv.format);
  }
}

}  // namespace

absl::Status MemberAddCommand(Invocation& inv) {
  if (absl::Status s = NeedsServer(inv, "member add"); !s.ok()) return s;
  if (inv.args.empty()) return ExitError(kExitBadArgs, "member name not provided");
  if (inv.args.size() > 1) {
    std::string ev = "too many arguments";
    for (const std::string& a : inv.args) {
      if (absl::StartsWith(absl::AsciiStrToLower(a), "http")) {
        ev += absl::StrFormat(", did you mean --peer-urls=%s", a);
      }
    }
    return ExitError(kExitBadArgs, ev);
  }
  if (inv.member_peer_urls.empty()) {
    return ExitError(kExitBadArgs, "member peer urls not provided");
  }
  const std::string name = inv.args[0];
  const std::string urls = inv.member_peer_urls;
  pb::MemberAddRequest req;
  for (absl::string_view u : absl::StrSplit(urls, ',')) req.add_peerurls(std::string(u));
  req.set_islearner(inv.member_learner);
  return ClusterCall<pb::MemberAddRequest, pb::MemberAddResponse>(
      inv, req, &pb::Cluster::Stub::MemberAdd,
      [&](const pb::MemberAddResponse& r) {
        // etcdctl's hint for starting the new member: its --initial-cluster.
        std::vector<std::string> conf;
        for (const pb::Member& m : r.members()) {
          for (const std::string& u : m.peerurls()) {
            conf.push_back((m.id() == r.member().id() ? name : m.name()) + "=" + u);
          }
        }
        return absl::StrFormat(
            "Member %16x added to cluster "
            "%16x\n\nETCD_NAME=%s\nETCD_INITIAL_CLUSTER=%s\n"
            "ETCD_INITIAL_ADVERTISE_PEER_URLS=%s\nETCD_"
            "INITIAL_CLUSTER_STATE=\"existing\"\n",
            r.member().id(), r.header().cluster_id(), GoQuote(name),
            GoQuote(absl::StrJoin(conf, ",")), GoQuote(urls));
      },
      [](const pb::MemberAddResponse& r) {
        std::string out = "{\"header\":" + HeaderJsonObject(r.header());
        if (r.has_member()) out += ",\"member\":" + MemberJson(r.member());
        if (r.members_size() > 0) out += "," + MembersJson(r.members());
        return out + "}\n";
      });
}

absl::Status MemberRemoveCommand(Invocation& inv) {
  if (absl::Status s = NeedsServer(inv, "member remove"); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = MemberId(inv);
  if (!id.ok()) return id.status();
  pb::MemberRemoveRequest req;
  req.set_id(*id);
  return ClusterCall<pb::MemberRemoveRequest, pb::MemberRemoveResponse>(
      inv, req, &pb::Cluster::Stub::MemberRemove,
      [id = *id](const pb::MemberRemoveResponse& r) {
        return absl::StrFormat("Member %16x removed from cluster %16x\n", id,
                               r.header().cluster_id());
      },
      MembersAnswerJson<pb::MemberRemoveResponse>);
}

absl::Status MemberUpdateCommand(Invocation& inv) {
  if (absl::Status s = NeedsServer(inv, "member update"); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = MemberId(inv);
  if (!id.ok()) return id.status();
  if (inv.member_peer_urls.empty()) {
    return ExitError(kExitBadArgs, "member peer urls not provided");
  }
  pb::MemberUpdateRequest req;
  req.set_id(*id);
  for (absl::string_view u : absl::StrSplit(inv.member_peer_urls, ',')) {
    req.add_peerurls(std::string(u));
  }
  return ClusterCall<pb::MemberUpdateRequest, pb::MemberUpdateResponse>(
      inv, req, &pb::Cluster::Stub::MemberUpdate,
      [id = *id](const pb::MemberUpdateResponse& r) {
        return absl::StrFormat("Member %16x updated in cluster %16x\n", id,
                               r.header().cluster_id());
      },
      MembersAnswerJson<pb::MemberUpdateResponse>);
}

absl::Status MemberPromoteCommand(Invocation& inv) {
  if (absl::Status s = NeedsServer(inv, "member promote"); !s.ok()) return s;
  absl::StatusOr<uint64_t> id = MemberId(inv);
  if (!id.ok()) return id.status();
  pb::MemberPromoteRequest req;
  req.set_id(*id);
  return ClusterCall<pb::MemberPromoteRequest, pb::MemberPromoteResponse>(
      inv, req, &pb::Cluster::Stub::MemberPromote,
      [id = *id](const pb::MemberPromoteResponse& r) {
        return absl::StrFormat("Member %16x promoted in cluster %16x\n", id,
                               r.header().cluster_id());
      },
      MembersAnswerJson<pb::MemberPromoteResponse>);
}

// etcdctl's move-leader: asks each endpoint in turn for its status (one
// command timeout for all: a dead endpoint before the leader fails the
// command), then asks the leader among them to hand over.
absl::Status MoveLeaderCommand(Invocation& inv) {
  if (absl::Status s = NeedsServer(inv, "move-leader"); !s.ok()) return s;
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "move-leader command needs 1 argument");
  }
  absl::StatusOr<uint64_t> target = ParseHex(inv.args[0]);
  if (!target.ok()) return ExitError(kExitBadArgs, target.status().message());
  const auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(inv.remote.command_timeout);
  std::optional<Stubbed<pb::Maintenance>> leader;
  uint64_t leader_id = 0;
  for (const std::string& ep : inv.remote.endpoints) {
    absl::StatusOr<Stubbed<pb::Maintenance>> m = Dial<pb::Maintenance>(inv.remote.For(ep));
    if (!m.ok()) return m.status();
    pb::StatusResponse st;
    grpc::ClientContext ctx;
    m->conn->Prepare(&ctx);
    ctx.set_deadline(deadline);
    if (grpc::Status s = m->stub->Status(&ctx, pb::StatusRequest(), &st); !s.ok()) {
      return FromGrpc(s);
    }
    if (st.header().member_id() == st.leader()) {
      leader_id = st.leader();
      leader = *std::move(m);
      break;
    }
  }
  if (!leader.has_value()) {
    return ExitError(kExitBadArgs, absl::StrFormat("no leader endpoint given at [%s]",
                                                   absl::StrJoin(inv.remote.endpoints, " ")));
  }
  pb::MoveLeaderRequest req;
  req.set_targetid(*target);
  pb::MoveLeaderResponse resp;
  grpc::ClientContext ctx;
  leader->conn->Prepare(&ctx);
  ctx.set_deadline(deadline);
  if (grpc::Status s = leader->stub->MoveLeader(&ctx, req, &resp); !s.ok()) return FromGrpc(s);
  switch (inv.format) {
    case Format::kSimple:
      *inv.out << absl::StrFormat("Leadership transferred from %x to %x\n", leader_id, *target);
      return absl::OkStatus();
    case Format::kJson:
      // etcd answers a move to the leader itself without a header.
      *inv.out << (resp.has_header() ? "{\"header\":" + HeaderJsonObject(resp.header()) + "}"
                                     : std::string("{}"))
               << "\n";
      return absl::OkStatus();
    default:
      return Unsupported(inv.format);
  }
}

}  // namespace revkv::cli
