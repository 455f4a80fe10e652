#include "cmd/revkv/serve_cluster.h"

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cmd/revkv/serve_config.h"
#include "util/sha256.h"

namespace revkv::cli {
namespace {

uint64_t First8(const std::string& digest) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(digest[size_t(i)]);
  return v == 0 ? 1 : v;  // raft and etcd want positive ids
}

bool NonEmptyDir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) &&
         std::filesystem::directory_iterator(path, ec) != std::filesystem::directory_iterator();
}

}  // namespace

uint64_t MemberId(const std::string& name, const std::string& token) {
  util::Sha256 h;
  h.Update(std::string_view("revkv-member\0", 13));
  h.Update(name);
  h.Update(std::string_view("\0", 1));
  h.Update(token);
  return First8(h.Final());
}

uint64_t AddedMemberId(const std::string& peer_url, const std::string& token) {
  util::Sha256 h;
  h.Update(std::string_view("revkv-added-member\0", 19));
  h.Update(peer_url);
  h.Update(std::string_view("\0", 1));
  h.Update(token);
  return First8(h.Final());
}

ClusterFlags FlagsOf(const ServeConfig& config) {
  ClusterFlags f;
  f.name = config.name;
  f.data_dir = config.data_dir;
  f.initial_cluster = config.initial_cluster;
  f.initial_cluster_state = config.initial_cluster_state;
  f.initial_cluster_token = config.initial_cluster_token;
  f.initial_advertise_peer_urls = config.initial_advertise_peer_urls;
  f.listen_peer_urls = config.listen_peer_urls;
  f.advertise_client_urls = config.advertise_client_urls;
  f.election_timeout_ms = config.election_timeout_ms;
  f.heartbeat_interval_ms = config.heartbeat_interval_ms;
  f.max_request_bytes = config.max_request_bytes;
  f.snapshot_count = config.snapshot_count;
  return f;
}

uint64_t ClusterId(const std::string& token, const std::vector<std::string>& names) {
  util::Sha256 h;
  h.Update(std::string_view("revkv-cluster\0", 14));
  h.Update(token);
  for (const std::string& n : names) {
    h.Update(std::string_view("\0", 1));
    h.Update(n);
  }
  return First8(h.Final());
}

absl::Status CheckSingleMemberDir(const std::string& data_dir) {
  if (NonEmptyDir(data_dir + "/member/raft")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", data_dir,
        " belongs to a cluster member (member/raft); start it with its --initial-cluster"));
  }
  return absl::OkStatus();
}

absl::StatusOr<cluster::ClusterMemberOptions> ClusterOptions(const ClusterFlags& f,
                                                             uint64_t* cluster_id) {
  cluster::ClusterMemberOptions o;
  std::set<std::string> names;
  std::vector<std::string> ordered;
  for (absl::string_view entry : absl::StrSplit(f.initial_cluster, ',', absl::SkipWhitespace())) {
    std::vector<std::string> kv = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--initial-cluster: \"", entry, "\" is not name=URL"));
    }
    if (!names.insert(kv[0]).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--initial-cluster: member ", kv[0], " is given twice (one peer URL per member)"));
    }
    absl::StatusOr<std::string> address = GrpcAddress(kv[1]);
    if (!address.ok() || IsHttpsUrl(kv[1])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--initial-cluster: peer URL \"", kv[1], "\" must be http://IP:port"));
    }
    cluster::Peer p;
    p.id = MemberId(kv[0], f.initial_cluster_token);
    p.name = kv[0];
    p.peer_url = kv[1];
    p.address = *address;
    o.peers.push_back(std::move(p));
    ordered.push_back(kv[0]);
  }
  if (o.peers.empty()) return absl::InvalidArgumentError("--initial-cluster lists no member");
  cluster::Peer* self = nullptr;
  for (cluster::Peer& p : o.peers) {
    if (p.name == f.name) self = &p;
  }
  if (self == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "couldn't find local name \"", f.name, "\" in the initial cluster configuration"));
  }
  // raft listens where its peers reach it: both URL flags must name it.
  for (const auto* urls : {&f.initial_advertise_peer_urls, &f.listen_peer_urls}) {
    for (const std::string& u : *urls) {
      absl::StatusOr<std::string> a = GrpcAddress(u);
      if (!a.ok() || *a != self->address) {
        return absl::InvalidArgumentError(absl::StrCat(
            "peer URL ", u, " is not ", f.name, "'s URL in --initial-cluster (", self->peer_url,
            "): revkv's raft listens on the address its peers dial"));
      }
    }
  }
  if (f.initial_cluster_state != "new" && f.initial_cluster_state != "existing") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--initial-cluster-state must be new or existing, not \"", f.initial_cluster_state, "\""));
  }
  if (f.election_timeout_ms <= 0 || f.heartbeat_interval_ms <= 0 ||
      f.heartbeat_interval_ms * 5 > f.election_timeout_ms) {
    return absl::InvalidArgumentError(
        "--election-timeout must be at least 5 times --heartbeat-interval (etcd's rule)");
  }
  bool plain = false;
  for (const std::string& u : f.advertise_client_urls) plain = plain || !IsHttpsUrl(u);
  if (!plain) {
    return absl::InvalidArgumentError(
        "a cluster member needs an http:// --advertise-client-urls: members forward writes and "
        "read indexes to the leader's client URL in plaintext (TLS between members: not yet)");
  }
  if (NonEmptyDir(f.data_dir + "/member/wal")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", f.data_dir,
        " belongs to a single member (member/wal); a cluster member needs a fresh one"));
  }
  o.raft_dir = f.data_dir + "/member/raft";
  const bool has_log = NonEmptyDir(o.raft_dir);
  std::error_code ec;
  std::filesystem::create_directories(o.raft_dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", o.raft_dir, ": ", ec.message()));
  }
  // The id: kept from the first start; a member joining (existing, no
  // log) has the one MemberAdd gave it; older data directories had the
  // name's.
  const std::string id_file = f.data_dir + "/member/revkv_member_id";
  uint64_t id = 0;
  if (std::ifstream in(id_file); in) {
    in >> std::hex >> id;
    if (!in || id == 0) {
      return absl::DataLossError(absl::StrCat(id_file, " does not hold a member id"));
    }
  } else {
    id = f.initial_cluster_state == "existing" && !has_log
             ? AddedMemberId(self->peer_url, f.initial_cluster_token)
             : self->id;
    std::ofstream out(id_file);
    out << std::hex << id << "\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", id_file));
  }
  self->id = id;
  o.id = id;
  const std::string token = f.initial_cluster_token;
  o.added_member_id = [token](const std::string& url) { return AddedMemberId(url, token); };
  o.name = f.name;
  o.client_urls = f.advertise_client_urls;
  o.data_dir = f.data_dir;
  o.bootstrap = f.initial_cluster_state == "new";
  o.election_timeout_ms = unsigned(f.election_timeout_ms);
  // A snapshot every --snapshot-count entries, keeping etcd's
  // SnapshotCatchUpEntries (5,000) for followers a little behind.
  o.snapshot_threshold = unsigned(f.snapshot_count);
  o.snapshot_trailing = unsigned(std::min<int64_t>(f.snapshot_count, 5000));
  o.heartbeat_timeout_ms = unsigned(f.heartbeat_interval_ms);
  o.max_request_bytes = f.max_request_bytes;
  // etcd's request timeout: 5 s and two elections.
  o.request_timeout = std::chrono::milliseconds(5000 + 2 * f.election_timeout_ms);
  *cluster_id = ClusterId(f.initial_cluster_token, ordered);
  return o;
}

}  // namespace revkv::cli
