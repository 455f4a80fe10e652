// member list in client mode, over etcd's Cluster service, printed as
// etcdctl 3.4 prints it. A data directory is one member of nothing, so
// local mode has no member commands.
//
// Thread-safety: used by one thread.
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

// etcdctl's makeMemberListTable rows.
std::vector<std::vector<std::string>> Rows(const pb::MemberListResponse& r) {
  std::vector<std::vector<std::string>> rows;
  for (const pb::Member& m : r.members()) {
    rows.push_back({absl::StrFormat("%x", m.id()), m.name().empty() ? "unstarted" : "started",
                    m.name(), absl::StrJoin(m.peerurls(), ","),
                    absl::StrJoin(m.clienturls(), ","), m.islearner() ? "true" : "false"});
  }
  return rows;
}

absl::StatusOr<std::string> Text(Format f, const pb::MemberListResponse& r) {
  switch (f) {
    case Format::kSimple: {
      std::string out;
      for (const auto& row : Rows(r)) out += absl::StrJoin(row, ", ") + "\n";
      return out;
    }
    case Format::kJson: {
      std::string out = "{\"header\":" + HeaderJsonObject(r.header());
      if (r.members_size() > 0) out += "," + MembersJson(r.members());
      return out + "}\n";
    }
    case Format::kFields: {
      std::string out = HeaderFieldLines(r.header());
      for (const pb::Member& m : r.members()) {
        out += absl::StrFormat("\"ID\" : %d\n\"Name\" : %s\n", m.id(), GoQuote(m.name()));
        for (const std::string& u : m.peerurls()) out += "\"PeerURL\" : " + GoQuote(u) + "\n";
        for (const std::string& u : m.clienturls()) out += "\"ClientURL\" : " + GoQuote(u) + "\n";
        out += absl::StrFormat("\"IsLearner\" : %s\n\n", m.islearner() ? "true" : "false");
      }
      return out;
    }
    case Format::kTable:
      return Table({"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}, Rows(r));
    case Format::kProtobuf: break;
  }
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

}  // namespace

absl::Status MemberListCommand(Invocation& inv) {
  if (!inv.remote_mode()) {
    return ExitError(kExitError, "member commands need a server: pass --endpoints");
  }
  absl::StatusOr<std::unique_ptr<RemoteChannel>> conn = RemoteChannel::Open(inv.remote);
  if (!conn.ok()) return conn.status();
  auto stub = pb::Cluster::NewStub((*conn)->channel());
  pb::MemberListResponse resp;
  grpc::ClientContext ctx;
  (*conn)->Prepare(&ctx);
  if (grpc::Status s = stub->MemberList(&ctx, pb::MemberListRequest(), &resp); !s.ok()) {
    return FromGrpc(s);
  }
  absl::StatusOr<std::string> text = Text(inv.format, resp);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

}  // namespace revkv::cli
