// Parsing and checking etcdctl txn requests.
//
// ReadTxn reads etcdctl's non-interactive txn format from a stream: compare
// lines, an empty line, success op lines, an empty line, failure op lines,
// an empty line. Lines are trimmed; a stream that ends before the third empty
// line (or a last line without '\n') fails with `EOF` (exit 3). Compare lines
// are `FIELD("key") OP "value"`; op lines are put/get/del command lines
// (etcdctl's argify quoting, including its single-quote slicing quirk).
//
// CheckTxnRequest applies the server's request checks in etcd's order: an
// empty key anywhere (`etcdserver: key is not provided`), then a key put
// twice, or put inside a del range, in either branch (`etcdserver: duplicate
// key given in txn request`), using etcd's interval semantics (a del range
// whose end is "\0" -- --from-key, or "" --prefix -- conflicts with no put).
// A branch of n ops costs O(n log n).
//
// Thread-safety: pure functions.
#ifndef REVKV_CMD_REVKV_TXN_REQUEST_H_
#define REVKV_CMD_REVKV_TXN_REQUEST_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/revkv/requests.h"

namespace revkv::cli {

// etcdctl's Argify: "double quoted" (Go unquoted), 'single quoted' (sliced
// as etcdctl slices it: [1 : number of words - 1]) and bare words.
absl::StatusOr<std::vector<std::string>> Argify(const std::string& line);

// One compare line (trimmed).
absl::StatusOr<Compare> ParseCompare(const std::string& line);
// One op line (trimmed): put / get / del with their flags (cobra prefix
// matching of the command word).
absl::StatusOr<RequestOp> ParseRequestOp(const std::string& line);

// Reads a whole request (see above).
absl::StatusOr<TxnRequest> ReadTxn(std::istream& in);

// As ReadTxn, printing etcdctl's prompts ("compares:", "success requests
// (get, put, del):", "failure requests (get, put, del):") to `prompts` (txn -i).
absl::StatusOr<TxnRequest> ReadTxnInteractive(std::istream& in, std::ostream& prompts);

// The server-side checks (see above).
absl::Status CheckTxnRequest(const TxnRequest& txn);
// The duplicate-key check of one branch.
absl::Status CheckDuplicates(const std::vector<RequestOp>& ops);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_TXN_REQUEST_H_
