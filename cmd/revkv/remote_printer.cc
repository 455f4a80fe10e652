#include "cmd/revkv/remote_printer.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cmd/revkv/encoding.h"

namespace revkv::cli {

std::string HeaderJsonFields(const etcdserverpb::ResponseHeader& h) {
  std::string out;
  auto field = [&](const char* name, auto v) {
    if (v == 0) return;
    if (!out.empty()) out += ",";
    out += absl::StrFormat("\"%s\":%d", name, v);
  };
  field("cluster_id", h.cluster_id());
  field("member_id", h.member_id());
  field("revision", h.revision());
  field("raft_term", h.raft_term());
  return out;
}

std::string HeaderJsonObject(const etcdserverpb::ResponseHeader& h) {
  return "{" + HeaderJsonFields(h) + "}";
}

std::string JsonWithHeader(const etcdserverpb::ResponseHeader& h, const std::string& rest) {
  std::string fields = HeaderJsonFields(h);
  if (!fields.empty() && !rest.empty()) fields += ",";
  return "{" + fields + rest + "}";
}

std::string HeaderFieldLines(const etcdserverpb::ResponseHeader& h) {
  return absl::StrFormat("\"ClusterID\" : %d\n\"MemberID\" : %d\n\"Revision\" : %d\n"
                         "\"RaftTerm\" : %d\n",
                         h.cluster_id(), h.member_id(), h.revision(), h.raft_term());
}

namespace {

std::string JsonStrings(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::vector<std::string> out;
  for (const std::string& s : v) out.push_back(JsonString(s));
  return "[" + absl::StrJoin(out, ",") + "]";
}

}  // namespace

std::string MemberJson(const etcdserverpb::Member& m) {
  std::vector<std::string> fs;
  if (m.id() != 0) fs.push_back(absl::StrFormat("\"ID\":%d", m.id()));
  if (!m.name().empty()) fs.push_back("\"name\":" + JsonString(m.name()));
  if (m.peerurls_size() > 0) fs.push_back("\"peerURLs\":" + JsonStrings(m.peerurls()));
  if (m.clienturls_size() > 0) fs.push_back("\"clientURLs\":" + JsonStrings(m.clienturls()));
  if (m.islearner()) fs.push_back("\"isLearner\":true");
  return "{" + absl::StrJoin(fs, ",") + "}";
}

std::string MembersJson(const google::protobuf::RepeatedPtrField<etcdserverpb::Member>& ms) {
  if (ms.empty()) return "";
  std::vector<std::string> out;
  for (const etcdserverpb::Member& m : ms) out.push_back(MemberJson(m));
  return "\"members\":[" + absl::StrJoin(out, ",") + "]";
}

std::string LeaseHex(int64_t id) {
  // Go pads after the sign, the sign counting towards the width.
  if (id < 0) return absl::StrFormat("-%015x", uint64_t(0) - uint64_t(id));
  return absl::StrFormat("%016x", id);
}

}  // namespace revkv::cli
