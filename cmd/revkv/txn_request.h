// Parsing etcdctl txn requests (the server's checks: etcdkv/txn_check.h).
//
// ReadTxn reads etcdctl's non-interactive txn format from a stream: compare
// lines, an empty line, success op lines, an empty line, failure op lines,
// an empty line. Lines are trimmed; a stream that ends before the third empty
// line (or a last line without '\n') fails with `EOF` (exit 3). Compare lines
// are `FIELD("key") OP "value"`; op lines are put/get/del command lines
// (etcdctl's argify quoting, including its single-quote slicing quirk).
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

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_TXN_REQUEST_H_
