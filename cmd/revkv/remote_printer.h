// Pieces of etcdctl's printers for the client-mode commands whose answers
// carry the server's response header (lease, member, alarm, endpoint
// status): Go's encoding/json and its "fields" printer, with the
// header's cluster_id, member_id and raft_term as the server sent them
// (revkv serve's are its own; local mode prints them as 0).
//
// Thread-safety: pure functions.
#ifndef REVKV_CMD_REVKV_REMOTE_PRINTER_H_
#define REVKV_CMD_REVKV_REMOTE_PRINTER_H_

#include <cstdint>
#include <string>

#include "server/proto/rpc.pb.h"

namespace revkv::cli {

// The header's fields as encoding/json prints an embedded
// *pb.ResponseHeader (omitempty; no braces, no trailing comma):
// `"cluster_id":1,"member_id":2,"revision":3,"raft_term":4`. "" if all zero.
std::string HeaderJsonFields(const etcdserverpb::ResponseHeader& h);
// The header as a JSON object: `{"cluster_id":1,...}` ("{}" if all zero).
std::string HeaderJsonObject(const etcdserverpb::ResponseHeader& h);
// `{` + the header's fields + `rest` + `}`, a comma between when both exist.
std::string JsonWithHeader(const etcdserverpb::ResponseHeader& h, const std::string& rest);
// etcdctl's fieldsPrinter.hdr: "ClusterID", "MemberID", "Revision",
// "RaftTerm" lines.
std::string HeaderFieldLines(const etcdserverpb::ResponseHeader& h);
// A member as encoding/json prints a *pb.Member (omitempty):
// `{"ID":1,"name":"a","peerURLs":[...],"clientURLs":[...],"isLearner":true}`.
std::string MemberJson(const etcdserverpb::Member& m);
// `"members":[...]`, or "" for none (omitempty).
std::string MembersJson(const google::protobuf::RepeatedPtrField<etcdserverpb::Member>& ms);
// Go's fmt "%016x" of an int64 (a lease id).
std::string LeaseHex(int64_t id);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_PRINTER_H_
