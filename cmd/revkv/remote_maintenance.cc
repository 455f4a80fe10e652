// Client mode of endpoint status / health, defrag, alarm list / disarm and
// snapshot save, over etcd's Maintenance (and, for health, KV) service,
// printed as etcdctl 3.4 prints them -- including its quirks: status and
// defrag report a failure on stderr in their own words and exit 1 without
// an "Error:" line; snapshot save fails with exit 5 (ExitInterrupted).
//
// Thread-safety: each command is used by one thread.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"
#include "util/sha256.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

constexpr int kExitInterrupted = 5;

using Maintenance = Stubbed<pb::Maintenance>;
absl::StatusOr<Maintenance> Dial(const Invocation& inv) { return Dial<pb::Maintenance>(inv.remote); }

// etcdctl's exit without a line of its own (the failure was printed).
absl::Status QuietExit(int code) { return RawError(code, ""); }

absl::StatusOr<std::string> StatusText(Format f, const std::string& ep,
                                       const pb::StatusResponse& r) {
  const std::vector<std::string> row = {
      ep,
      absl::StrFormat("%x", r.header().member_id()),
      r.version(),
      HumanizeBytes(uint64_t(r.dbsize())),
      r.leader() == r.header().member_id() ? "true" : "false",
      r.islearner() ? "true" : "false",
      std::to_string(r.raftterm()),
      std::to_string(r.raftindex()),
      std::to_string(r.raftappliedindex()),
      absl::StrJoin(r.errors(), ", ")};
  switch (f) {
    case Format::kSimple: return absl::StrJoin(row, ", ") + "\n";
    case Format::kJson: {
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
      return "[{\"Endpoint\":" + JsonString(ep) + ",\"Status\":{" + s + "}}]\n";
    }
    case Format::kFields:
      // Go's %v of a []string: "[a b]".
      return HeaderFieldLines(r.header()) +
             absl::StrFormat(
                 "\"Version\" : %s\n\"DBSize\" : %d\n\"Leader\" : %d\n\"IsLearner\" : %s\n"
                 "\"RaftIndex\" : %d\n\"RaftTerm\" : %d\n\"RaftAppliedIndex\" : %d\n"
                 "\"Errors\" : [%s]\n\"Endpoint\" : %s\n\n",
                 GoQuote(r.version()), r.dbsize(), r.leader(), r.islearner() ? "true" : "false",
                 r.raftindex(), r.raftterm(), r.raftappliedindex(),
                 absl::StrJoin(r.errors(), " "), GoQuote(ep));
    case Format::kTable:
      return Table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER",
                    "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS"},
                   {row});
    case Format::kProtobuf: break;
  }
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

// etcdctl's empty status list (every endpoint failed).
std::string NoStatusText(Format f) {
  switch (f) {
    case Format::kJson: return "[]\n";
    case Format::kTable:
      return Table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER",
                    "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS"},
                   {});
    default: return "";
  }
}

// The alarms as etcdctl's "%+v" of a pb.AlarmMember prints them.
std::string AlarmText(Format f, const pb::AlarmResponse& r) {
  std::string out;
  switch (f) {
    case Format::kSimple:
      for (const pb::AlarmMember& a : r.alarms()) {
        out += absl::StrFormat("memberID:%d alarm:%s \n", a.memberid(),
                               pb::AlarmType_Name(a.alarm()));
      }
      return out;
    case Format::kJson: {
      std::string s;
      if (r.has_header()) s = "\"header\":" + HeaderJsonObject(r.header());
      if (r.alarms_size() > 0) {
        std::vector<std::string> as;
        for (const pb::AlarmMember& a : r.alarms()) {
          std::vector<std::string> fs;
          if (a.memberid() != 0) fs.push_back(absl::StrFormat("\"memberID\":%d", a.memberid()));
          if (a.alarm() != 0) fs.push_back(absl::StrFormat("\"alarm\":%d", int(a.alarm())));
          as.push_back("{" + absl::StrJoin(fs, ",") + "}");
        }
        s += std::string(s.empty() ? "" : ",") + "\"alarms\":[" + absl::StrJoin(as, ",") + "]";
      }
      return "{" + s + "}\n";
    }
    default:
      // fields: etcdctl dereferences the missing header and panics; revkv
      // prints the zero header instead.
      out = HeaderFieldLines(r.header());
      for (const pb::AlarmMember& a : r.alarms()) {
        out += absl::StrFormat("\"MemberID\" : %d\n\"AlarmType\" : %s\n", a.memberid(),
                               pb::AlarmType_Name(a.alarm()));
      }
      return out;
  }
}

absl::StatusOr<pb::AlarmResponse> ListAlarms(const Maintenance& m) {
  pb::AlarmRequest req;
  req.set_action(pb::AlarmRequest::GET);
  pb::AlarmResponse resp;
  grpc::ClientContext ctx;
  m.conn->Prepare(&ctx);
  if (grpc::Status s = m.stub->Alarm(&ctx, req, &resp); !s.ok()) return FromGrpc(s);
  return resp;
}

// One endpoint's health as etcdctl checks it: a linearizable get of key
// "health" answered (or refused for permissions) and no alarm raised.
EndpointHealth CheckHealth(const Maintenance& m) {
  EndpointHealth h;
  h.endpoint = m.conn->endpoint();
  const absl::Time start = absl::Now();
  auto kv = pb::KV::NewStub(m.conn->channel());
  pb::RangeRequest req;
  req.set_key("health");
  pb::RangeResponse resp;
  grpc::ClientContext ctx;
  m.conn->Prepare(&ctx);
  grpc::Status s = kv->Range(&ctx, req, &resp);
  h.took = FormatGoDuration(absl::Now() - start);
  h.health = s.ok() || s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
  if (!h.health) {
    h.error = std::string(FromGrpc(s).message());
    return h;
  }
  absl::StatusOr<pb::AlarmResponse> alarms = ListAlarms(m);
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

absl::Status CopyStream(const Maintenance& m, std::FILE* out);

// Writes the snapshot stream to `part` and syncs it; checks etcd's trailer: the stream
// ends with the SHA-256 of what precedes it (etcdctl checks its length
// only; a mismatched digest would fail at restore).
absl::Status SaveStream(const Maintenance& m, const std::string& part) {
  // 0600, as etcdctl makes it: a snapshot holds every key.
  const int fd = open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::FILE* out = fd >= 0 ? fdopen(fd, "wb") : nullptr;
  if (out == nullptr) {
    if (fd >= 0) close(fd);
    return ExitError(kExitInterrupted, absl::StrFormat("open %s: cannot write", part));
  }
  absl::Status s = CopyStream(m, out);
  // etcdctl syncs the file before renaming it into place.
  const bool synced = std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  if (std::fclose(out) != 0 || !synced) {
    if (s.ok()) s = ExitError(kExitInterrupted, absl::StrFormat("write %s: failed", part));
  }
  return s;
}

absl::Status CopyStream(const Maintenance& m, std::FILE* out) {
  grpc::ClientContext ctx;
  m.conn->Prepare(&ctx);
  auto stream = m.stub->Snapshot(&ctx, pb::SnapshotRequest());
  pb::SnapshotResponse chunk;
  util::Sha256 sha;
  std::string tail;  // the last bytes seen: the digest once the stream ends
  uint64_t size = 0;
  while (stream->Read(&chunk)) {
    const std::string& b = chunk.blob();
    if (std::fwrite(b.data(), 1, b.size(), out) != b.size()) {
      ctx.TryCancel();
      stream->Finish().IgnoreError();
      return ExitError(kExitInterrupted, "write: failed");
    }
    size += b.size();
    tail += b;
    if (tail.size() > util::kSha256Size) {
      const size_t hashed = tail.size() - util::kSha256Size;
      sha.Update(std::string_view(tail).substr(0, hashed));
      tail.erase(0, hashed);
    }
  }
  if (grpc::Status s = stream->Finish(); !s.ok()) {
    absl::Status e = FromGrpc(s);
    return ExitError(kExitInterrupted, e.message());
  }
  if (size % 512 != util::kSha256Size) {
    return ExitError(kExitInterrupted,
                     absl::StrFormat("sha256 checksum not found [bytes: %d]", size));
  }
  if (sha.Final() != tail) {
    return ExitError(kExitInterrupted, "revkv: the snapshot's sha256 does not match its content");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RemoteEndpointStatus(Invocation& inv) {
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  pb::StatusResponse resp;
  grpc::ClientContext ctx;
  m->conn->Prepare(&ctx);
  if (grpc::Status s = m->stub->Status(&ctx, pb::StatusRequest(), &resp); !s.ok()) {
    *inv.out << NoStatusText(inv.format);
    inv.out->flush();
    *inv.err << absl::StrFormat("Failed to get the status of endpoint %s (%s)\n",
                                m->conn->endpoint(), FromGrpc(s).message());
    return QuietExit(kExitError);
  }
  absl::StatusOr<std::string> text = StatusText(inv.format, m->conn->endpoint(), resp);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

absl::Status RemoteEndpointHealth(Invocation& inv) {
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  const EndpointHealth h = CheckHealth(*m);
  absl::StatusOr<HealthText> text = PrintEndpointHealth(inv.format, {h});
  if (!text.ok()) return text.status();
  *inv.out << text->out;
  inv.out->flush();
  *inv.err << text->err;
  if (!h.health) return ExitError(kExitError, "unhealthy cluster");
  return absl::OkStatus();
}

absl::Status RemoteDefrag(Invocation& inv) {
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  pb::DefragmentResponse resp;
  grpc::ClientContext ctx;
  m->conn->Prepare(&ctx);
  if (grpc::Status s = m->stub->Defragment(&ctx, pb::DefragmentRequest(), &resp); !s.ok()) {
    *inv.err << absl::StrFormat("Failed to defragment etcd member[%s] (%s)\n",
                                m->conn->endpoint(), FromGrpc(s).message());
    return QuietExit(kExitError);
  }
  *inv.out << absl::StrFormat("Finished defragmenting etcd member[%s]\n", m->conn->endpoint());
  return absl::OkStatus();
}

absl::Status AlarmListCommand(Invocation& inv) {
  if (!inv.remote_mode()) {
    return ExitError(kExitError, "alarm commands need a server: pass --endpoints");
  }
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  absl::StatusOr<pb::AlarmResponse> resp = ListAlarms(*m);
  if (!resp.ok()) return resp.status();
  if (inv.format == Format::kTable) {
    return ExitError(kExitBadFeature, "table not supported as output format");
  }
  if (inv.format == Format::kProtobuf) {
    return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
  }
  *inv.out << AlarmText(inv.format, *resp);
  return absl::OkStatus();
}

absl::Status AlarmDisarmCommand(Invocation& inv) {
  if (!inv.remote_mode()) {
    return ExitError(kExitError, "alarm commands need a server: pass --endpoints");
  }
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  // clientv3's disarm-all: list, then deactivate each alarm; the answer
  // collects the deactivated alarms and has no header.
  absl::StatusOr<pb::AlarmResponse> listed = ListAlarms(*m);
  if (!listed.ok()) return listed.status();
  pb::AlarmResponse all;
  for (const pb::AlarmMember& a : listed->alarms()) {
    pb::AlarmRequest req;
    req.set_action(pb::AlarmRequest::DEACTIVATE);
    req.set_memberid(a.memberid());
    req.set_alarm(a.alarm());
    pb::AlarmResponse resp;
    grpc::ClientContext ctx;
    m->conn->Prepare(&ctx);
    if (grpc::Status s = m->stub->Alarm(&ctx, req, &resp); !s.ok()) return FromGrpc(s);
    for (const pb::AlarmMember& d : resp.alarms()) *all.add_alarms() = d;
  }
  if (inv.format == Format::kTable) {
    return ExitError(kExitBadFeature, "table not supported as output format");
  }
  if (inv.format == Format::kProtobuf) {
    return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
  }
  *inv.out << AlarmText(inv.format, all);
  return absl::OkStatus();
}

absl::Status RemoteSnapshotSave(Invocation& inv) {
  const std::string& path = inv.args[0];
  if (inv.remote.endpoints.size() != 1) {
    return ExitError(kExitBadArgs, "snapshot must be requested to one selected node, not multiple");
  }
  absl::StatusOr<Maintenance> m = Dial(inv);
  if (!m.ok()) return m.status();
  const std::string part = path + ".part";
  absl::Status s = SaveStream(*m, part);
  if (s.ok() && std::rename(part.c_str(), path.c_str()) != 0) {
    s = ExitError(kExitInterrupted, absl::StrFormat("rename %s %s: failed", part, path));
  }
  if (!s.ok()) {
    std::remove(part.c_str());
    return s;
  }
  *inv.out << absl::StrFormat("Snapshot saved at %s\n", path);
  return absl::OkStatus();
}

}  // namespace revkv::cli
