// The client mode of the KV commands: put, get, del, txn, compaction, sent
// over etcd's v3 gRPC API to a server -- `revkv serve` or etcd itself --
// instead of applied to a local data directory. The command line takes this
// path when --endpoints (or ETCDCTL_ENDPOINTS) is given and no data
// directory is (cli.cc); the requests and the printing are the local mode's,
// so the output is the same.
//
// Errors are etcdctl's: the server's message ("etcdserver: mvcc: required
// revision has been compacted", ...) with exit code 1, and "context deadline
// exceeded" when no endpoint answers within --command-timeout (etcdctl waits
// for a connection as long; so does this). The connection and TLS are
// remote_channel.h's.
//
// Thread-safety: a RemoteKv is used by one thread.
#ifndef REVKV_CMD_REVKV_REMOTE_KV_H_
#define REVKV_CMD_REVKV_REMOTE_KV_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/revkv/remote_channel.h"
#include "cmd/revkv/requests.h"
#include "mvcc/store.h"
#include "server/proto/kv.pb.h"

namespace revkv::cli {

// The wire's mvccpb.KeyValue as the store's (the printers take those).
mvcc::KeyValue KeyValueFromProto(const mvccpb::KeyValue& kv);

class RemoteKv {
 public:
  // Fails only on bad options (an unreadable certificate file); the
  // connection is made by the first call.
  static absl::StatusOr<std::unique_ptr<RemoteKv>> Open(const RemoteOptions& options);
  ~RemoteKv();

  absl::StatusOr<RangeResponse> Range(const RangeRequest& r);
  absl::StatusOr<PutResponse> Put(const PutRequest& r);
  absl::StatusOr<DeleteResponse> Delete(const DeleteRequest& r);
  absl::StatusOr<TxnResponse> Txn(const TxnRequest& r);
  // etcdctl's compaction: physical waits until the compaction is done.
  absl::Status Compact(int64_t rev, bool physical);
  // The endpoint the calls go to, as given.
  const std::string& endpoint() const;

 private:
  struct Impl;
  explicit RemoteKv(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_KV_H_
