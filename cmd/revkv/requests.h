// The etcd v3 KV requests and responses of etcdkv/requests.h, named in the
// command line's namespace: the commands build and print them.
//
// Thread-safety: plain values.
#ifndef REVKV_CMD_REVKV_REQUESTS_H_
#define REVKV_CMD_REVKV_REQUESTS_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "cmd/revkv/exit_status.h"
#include "etcdkv/apply.h"
#include "etcdkv/requests.h"

namespace revkv::cli {

using etcdkv::Compare;
using etcdkv::CompareResult;
using etcdkv::CompareTarget;
using etcdkv::DeleteRequest;
using etcdkv::DeleteResponse;
using etcdkv::PutRequest;
using etcdkv::PutResponse;
using etcdkv::RangeRequest;
using etcdkv::RangeResponse;
using etcdkv::RequestOp;
using etcdkv::ResponseOp;
using etcdkv::SortOrder;
using etcdkv::SortTarget;
using etcdkv::TxnRequest;
using etcdkv::TxnResponse;

// A store error as etcdctl prints it: etcdkv::EtcdError, exit code 1.
inline absl::Status ServerError(const absl::Status& s) {
  absl::Status e = etcdkv::EtcdError(s);
  if (!e.ok() && !e.GetPayload(kExitCodeUrl).has_value()) {
    e.SetPayload(kExitCodeUrl, absl::Cord(std::to_string(kExitError)));
  }
  return e;
}

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REQUESTS_H_
