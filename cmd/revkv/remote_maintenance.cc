// Client mode of alarm list / disarm and snapshot save, over etcd's
// Maintenance service, printed as etcdctl 3.4 prints them -- including its
// quirks: snapshot save fails with exit 5 (ExitInterrupted). The
// per-endpoint commands (endpoint status / health / hashkv, defrag) are
// remote_endpoint.cc's.
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
#include "cmd/revkv/remote_maintenance.h"
#include "cmd/revkv/remote_printer.h"
#include "server/proto/rpc.grpc.pb.h"
#include "util/sha256.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

constexpr int kExitInterrupted = 5;

using Maintenance = Stubbed<pb::Maintenance>;
absl::StatusOr<Maintenance> Dial(const Invocation& inv) { return Dial<pb::Maintenance>(inv.remote); }

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

absl::StatusOr<pb::AlarmResponse> ListAlarms(const Stubbed<pb::Maintenance>& m) {
  pb::AlarmRequest req;
  req.set_action(pb::AlarmRequest::GET);
  pb::AlarmResponse resp;
  grpc::ClientContext ctx;
  m.conn->Prepare(&ctx);
  if (grpc::Status s = m.stub->Alarm(&ctx, req, &resp); !s.ok()) return FromGrpc(s);
  return resp;
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
