// Printing responses in etcdctl's output formats: simple, json (Go's
// encoding/json of the protobuf messages: omitempty, base64 bytes, field
// order as printed by etcdctl), fields and table. Header fields cluster_id,
// member_id and raft_term are always zero in revkv and therefore omitted
// from JSON (omitempty), also inside txn responses; `fields` prints them as 0.
//
// Thread-safety: pure functions returning strings.
#ifndef REVKV_CMD_REVKV_PRINTER_H_
#define REVKV_CMD_REVKV_PRINTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/revkv/requests.h"
#include "mvcc/store.h"

namespace revkv::cli {

enum class Format { kSimple, kJson, kFields, kTable, kProtobuf };

// Parses -w: "Error: unsupported output format" (exit 4) otherwise.
absl::StatusOr<Format> ParseFormat(const std::string& name);

// Each fails with etcdctl's errors for formats it does not support
// (table: "table not supported as output format", exit 4). `hex` is
// etcdctl's --hex: the simple format prints each key and value as
// "\x66\x6f\x6f"; the other formats ignore it (JSON stays base64, fields
// stay %q), as etcdctl 3.4's printers do.
absl::StatusOr<std::string> PrintPut(Format f, const PutResponse& r, bool hex = false);
absl::StatusOr<std::string> PrintRange(Format f, const RangeResponse& r, bool value_only,
                                       bool hex = false);
absl::StatusOr<std::string> PrintDelete(Format f, const DeleteResponse& r, bool hex = false);
absl::StatusOr<std::string> PrintTxn(Format f, const TxnResponse& r, bool hex = false);

// tablewriter as etcdctl configures it: centered headers, right-aligned
// cells; every row has header.size() cells.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// etcdctl's "\xNN" form of bytes (its --hex).
std::string HexBytes(std::string_view bytes);

// One endpoint health result, etcdctl's epHealth.
struct EndpointHealth {
  std::string endpoint;
  bool health = false;
  std::string took;   // Go duration text; "" if the check never started
  std::string error;  // "" when healthy
};
// The text for stdout and the text for stderr: etcdctl 3.4's simple format
// prints its "is healthy" / "is unhealthy" lines on stderr; json, table and
// fields go to stdout. protobuf: "protobuf not supported as output format"
// (exit 4).
struct HealthText {
  std::string out;
  std::string err;
};
absl::StatusOr<HealthText> PrintEndpointHealth(Format f, const std::vector<EndpointHealth>& hs);

struct EndpointStatus {
  std::string endpoint;
  int64_t revision = 0;
  std::string version;
  int64_t db_size = 0;
  int64_t db_size_in_use = 0;
};
absl::StatusOr<std::string> PrintHashKV(Format f, const std::string& endpoint,
                                        const mvcc::HashResult& h);
absl::StatusOr<std::string> PrintEndpointStatus(Format f, const EndpointStatus& s);

struct SnapshotStatusView {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t total_key = 0;
  int64_t total_size = 0;
};
absl::StatusOr<std::string> PrintSnapshotStatus(Format f, const SnapshotStatusView& s);

// etcdctl's fields lines of one KeyValue, each name prefixed by `pfx`
// ("Prev" for a previous value): "Key", "CreateRevision", ..., "Lease".
std::string FieldsKv(const std::string& pfx, const mvcc::KeyValue& kv);

// The JSON of one KeyValue (omitempty, base64).
std::string KeyValueJson(const mvcc::KeyValue& kv);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_PRINTER_H_
