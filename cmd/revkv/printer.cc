#include "cmd/revkv/printer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {
namespace {

absl::Status NoTable() { return ExitError(kExitBadFeature, "table not supported as output format"); }
absl::Status NoProtobuf() {
  return ExitError(kExitBadFeature, "protobuf output is not supported by revkv");
}

std::string HeaderJson(int64_t rev) { return absl::StrFormat("{\"revision\":%d}", rev); }

std::string KvsJson(const std::vector<mvcc::KeyValue>& kvs) {
  std::string out = "[";
  for (size_t i = 0; i < kvs.size(); ++i) {
    if (i > 0) out += ",";
    out += KeyValueJson(kvs[i]);
  }
  return out + "]";
}

std::string PutJson(const PutResponse& r) {
  std::string out = "{\"header\":" + HeaderJson(r.revision);
  if (r.prev_kv.has_value()) out += ",\"prev_kv\":" + KeyValueJson(*r.prev_kv);
  return out + "}";
}

std::string RangeJson(const RangeResponse& r) {
  std::string out = "{\"header\":" + HeaderJson(r.revision);
  if (!r.kvs.empty()) out += ",\"kvs\":" + KvsJson(r.kvs);
  if (r.more) out += ",\"more\":true";
  if (r.count != 0) out += absl::StrFormat(",\"count\":%d", r.count);
  return out + "}";
}

std::string DeleteJson(const DeleteResponse& r) {
  std::string out = "{\"header\":" + HeaderJson(r.revision);
  if (r.deleted != 0) out += absl::StrFormat(",\"deleted\":%d", r.deleted);
  if (!r.prev_kvs.empty()) out += ",\"prev_kvs\":" + KvsJson(r.prev_kvs);
  return out + "}";
}

// etcdctl's printKV.
std::string SimpleKv(const mvcc::KeyValue& kv, bool value_only, bool hex) {
  const std::string k = hex ? HexBytes(kv.key) : kv.key;
  const std::string v = hex ? HexBytes(kv.value) : kv.value;
  return value_only ? v + "\n" : k + "\n" + v + "\n";
}

std::string FieldsHeader(int64_t rev) {
  return absl::StrFormat(
      "\"ClusterID\" : 0\n\"MemberID\" : 0\n\"Revision\" : %d\n\"RaftTerm\" : 0\n", rev);
}


std::string SimplePut(const PutResponse& r, bool hex) {
  std::string out = "OK\n";
  if (r.prev_kv.has_value()) out += SimpleKv(*r.prev_kv, false, hex);
  return out;
}
std::string SimpleRange(const RangeResponse& r, bool value_only, bool count_only, bool hex) {
  std::string out;
  for (const mvcc::KeyValue& kv : r.kvs) out += SimpleKv(kv, value_only, hex);
  if (count_only) out += absl::StrFormat("%d\n", r.count);
  return out;
}
std::string SimpleDelete(const DeleteResponse& r, bool hex) {
  std::string out = absl::StrFormat("%d\n", r.deleted);
  for (const mvcc::KeyValue& kv : r.prev_kvs) out += SimpleKv(kv, false, hex);
  return out;
}
std::string FieldsPut(const PutResponse& r) {
  std::string out = FieldsHeader(r.revision);
  if (r.prev_kv.has_value()) out += FieldsKv("Prev", *r.prev_kv);
  return out;
}
std::string FieldsRange(const RangeResponse& r) {
  std::string out = FieldsHeader(r.revision);
  for (const mvcc::KeyValue& kv : r.kvs) out += FieldsKv("", kv);
  return out + absl::StrFormat("\"More\" : %s\n\"Count\" : %d\n", r.more ? "true" : "false",
                               r.count);
}
std::string FieldsDelete(const DeleteResponse& r) {
  std::string out = FieldsHeader(r.revision) + absl::StrFormat("\"Deleted\" : %d\n", r.deleted);
  for (const mvcc::KeyValue& kv : r.prev_kvs) out += FieldsKv("Prev", kv);
  return out;
}

}  // namespace

std::string FieldsKv(const std::string& pfx, const mvcc::KeyValue& kv) {
  return absl::StrFormat(
      "\"%sKey\" : %s\n\"%sCreateRevision\" : %d\n\"%sModRevision\" : %d\n"
      "\"%sVersion\" : %d\n\"%sValue\" : %s\n\"%sLease\" : %d\n",
      pfx, GoQuote(kv.key), pfx, kv.create_revision, pfx, kv.mod_revision, pfx, kv.version, pfx,
      GoQuote(kv.value), pfx, kv.lease);
}

// tablewriter as etcdctl configures it: centered headers, right-aligned cells.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    w[i] = header[i].size();
    for (const auto& r : rows) w[i] = std::max(w[i], r[i].size());
  }
  std::string sep = "+";
  for (size_t x : w) sep += std::string(x + 2, '-') + "+";
  sep += "\n";
  std::string out = sep + "|";
  for (size_t i = 0; i < header.size(); ++i) {
    size_t pad = w[i] - header[i].size();
    out += std::string(pad / 2 + 1, ' ') + header[i] + std::string(pad - pad / 2 + 1, ' ') + "|";
  }
  out += "\n" + sep;
  for (const auto& r : rows) {
    out += "|";
    for (size_t i = 0; i < r.size(); ++i) {
      out += std::string(w[i] - r[i].size() + 1, ' ') + r[i] + " |";
    }
    out += "\n";
  }
  return out + sep;
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 4);
  for (unsigned char c : bytes) out += absl::StrFormat("\\x%02x", c);
  return out;
}

std::string KeyValueJson(const mvcc::KeyValue& kv) {
  std::string out = "{";
  auto field = [&](const std::string& f) {
    if (out.size() > 1) out += ",";
    out += f;
  };
  if (!kv.key.empty()) field("\"key\":\"" + Base64(kv.key) + "\"");
  if (kv.create_revision != 0) field(absl::StrFormat("\"create_revision\":%d", kv.create_revision));
  if (kv.mod_revision != 0) field(absl::StrFormat("\"mod_revision\":%d", kv.mod_revision));
  if (kv.version != 0) field(absl::StrFormat("\"version\":%d", kv.version));
  if (!kv.value.empty()) field("\"value\":\"" + Base64(kv.value) + "\"");
  if (kv.lease != 0) field(absl::StrFormat("\"lease\":%d", kv.lease));
  return out + "}";
}

absl::StatusOr<Format> ParseFormat(const std::string& name) {
  if (name == "simple") return Format::kSimple;
  if (name == "json") return Format::kJson;
  if (name == "fields") return Format::kFields;
  if (name == "table") return Format::kTable;
  if (name == "protobuf") return Format::kProtobuf;
  return ExitError(kExitBadFeature, "unsupported output format");
}

absl::StatusOr<std::string> PrintPut(Format f, const PutResponse& r, bool hex) {
  switch (f) {
    case Format::kSimple: return SimplePut(r, hex);
    case Format::kJson: return PutJson(r) + "\n";
    case Format::kFields: return FieldsPut(r);
    case Format::kTable: return NoTable();
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoTable();
}

absl::StatusOr<std::string> PrintRange(Format f, const RangeResponse& r, bool value_only,
                                       bool hex) {
  switch (f) {
    case Format::kSimple: return SimpleRange(r, value_only, false, hex);
    case Format::kJson: return RangeJson(r) + "\n";
    case Format::kFields: return FieldsRange(r);
    case Format::kTable: return NoTable();
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoTable();
}

absl::StatusOr<std::string> PrintDelete(Format f, const DeleteResponse& r, bool hex) {
  switch (f) {
    case Format::kSimple: return SimpleDelete(r, hex);
    case Format::kJson: return DeleteJson(r) + "\n";
    case Format::kFields: return FieldsDelete(r);
    case Format::kTable: return NoTable();
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoTable();
}

absl::StatusOr<std::string> PrintTxn(Format f, const TxnResponse& r, bool hex) {
  if (f == Format::kTable) return NoTable();
  if (f == Format::kProtobuf) return NoProtobuf();
  std::string out;
  if (f == Format::kSimple) {
    out = r.succeeded ? "SUCCESS\n" : "FAILURE\n";
    for (const ResponseOp& op : r.responses) {
      out += "\n";
      if (const auto* p = std::get_if<PutResponse>(&op)) out += SimplePut(*p, hex);
      if (const auto* g = std::get_if<RangeResponse>(&op)) {
        out += SimpleRange(*g, false, false, hex);
      }
      if (const auto* d = std::get_if<DeleteResponse>(&op)) out += SimpleDelete(*d, hex);
    }
    return out;
  }
  if (f == Format::kFields) {
    out = FieldsHeader(r.revision) +
          absl::StrFormat("\"Succeeded\" : %s\n", r.succeeded ? "true" : "false");
    for (const ResponseOp& op : r.responses) {
      if (const auto* p = std::get_if<PutResponse>(&op)) out += FieldsPut(*p);
      if (const auto* g = std::get_if<RangeResponse>(&op)) out += FieldsRange(*g);
      if (const auto* d = std::get_if<DeleteResponse>(&op)) out += FieldsDelete(*d);
    }
    return out;
  }
  out = "{\"header\":" + HeaderJson(r.revision);
  if (r.succeeded) out += ",\"succeeded\":true";
  if (!r.responses.empty()) {
    out += ",\"responses\":[";
    for (size_t i = 0; i < r.responses.size(); ++i) {
      if (i > 0) out += ",";
      const ResponseOp& op = r.responses[i];
      if (const auto* p = std::get_if<PutResponse>(&op)) {
        out += "{\"Response\":{\"ResponsePut\":" + PutJson(*p) + "}}";
      } else if (const auto* g = std::get_if<RangeResponse>(&op)) {
        out += "{\"Response\":{\"ResponseRange\":" + RangeJson(*g) + "}}";
      } else {
        out += "{\"Response\":{\"ResponseDeleteRange\":" +
               DeleteJson(std::get<DeleteResponse>(op)) + "}}";
      }
    }
    out += "]";
  }
  return out + "}\n";
}

absl::StatusOr<std::string> PrintHashKV(Format f, const std::string& ep,
                                        const mvcc::HashResult& h) {
  switch (f) {
    case Format::kSimple: return absl::StrFormat("%s, %d\n", ep, h.hash);
    case Format::kJson: {
      std::string out = "[{\"Endpoint\":" + JsonString(ep) +
                        ",\"HashKV\":{\"header\":" + HeaderJson(h.rev);
      if (h.hash != 0) out += absl::StrFormat(",\"hash\":%d", h.hash);
      if (h.compact_rev != 0) out += absl::StrFormat(",\"compact_revision\":%d", h.compact_rev);
      return out + "}}]\n";
    }
    case Format::kFields:
      return FieldsHeader(h.rev) +
             absl::StrFormat("\"Endpoint\" : %s\n\"Hash\" : %d\n\n", GoQuote(ep), h.hash);
    case Format::kTable:
      return Table({"ENDPOINT", "HASH"}, {{ep, std::to_string(h.hash)}});
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoProtobuf();
}

absl::StatusOr<std::string> PrintEndpointStatus(Format f, const EndpointStatus& s) {
  const std::vector<std::string> row = {s.endpoint, "0", s.version,
                                        HumanizeBytes(uint64_t(s.db_size)), "true", "false",
                                        "0", "0", "0", ""};
  switch (f) {
    case Format::kSimple: {
      std::string out;
      for (size_t i = 0; i < row.size(); ++i) out += (i ? ", " : "") + row[i];
      return out + "\n";
    }
    case Format::kJson: {
      std::string out = "[{\"Endpoint\":" + JsonString(s.endpoint) +
                        ",\"Status\":{\"header\":" + HeaderJson(s.revision);
      if (!s.version.empty()) out += ",\"version\":" + JsonString(s.version);
      if (s.db_size != 0) out += absl::StrFormat(",\"dbSize\":%d", s.db_size);
      if (s.db_size_in_use != 0) out += absl::StrFormat(",\"dbSizeInUse\":%d", s.db_size_in_use);
      return out + "}}]\n";
    }
    case Format::kFields:
      return FieldsHeader(s.revision) +
             absl::StrFormat(
                 "\"Version\" : %s\n\"DBSize\" : %d\n\"Leader\" : 0\n\"IsLearner\" : false\n"
                 "\"RaftIndex\" : 0\n\"RaftTerm\" : 0\n\"RaftAppliedIndex\" : 0\n"
                 "\"Errors\" : []\n\"DBSizeInUse\" : %d\n\"Endpoint\" : %s\n\n",
                 GoQuote(s.version), s.db_size, s.db_size_in_use, GoQuote(s.endpoint));
    case Format::kTable:
      return Table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER",
                    "RAFT TERM", "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS"},
                   {row});
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoProtobuf();
}

absl::StatusOr<HealthText> PrintEndpointHealth(Format f,
                                               const std::vector<EndpointHealth>& hs) {
  HealthText t;
  switch (f) {
    case Format::kSimple:
      for (const EndpointHealth& h : hs) {
        if (h.error.empty()) {
          t.err += absl::StrFormat("%s is healthy: successfully committed proposal: took = %s\n",
                                   h.endpoint, h.took);
        } else {
          t.err += absl::StrFormat("%s is unhealthy: failed to commit proposal: %s\n",
                                   h.endpoint, h.error);
        }
      }
      return t;
    case Format::kJson: {
      t.out = "[";
      for (size_t i = 0; i < hs.size(); ++i) {
        const EndpointHealth& h = hs[i];
        t.out += absl::StrFormat("%s{\"endpoint\":%s,\"health\":%s,\"took\":%s", i ? "," : "",
                                 JsonString(h.endpoint), h.health ? "true" : "false",
                                 JsonString(h.took));
        if (!h.error.empty()) t.out += ",\"error\":" + JsonString(h.error);
        t.out += "}";
      }
      t.out += "]\n";
      return t;
    }
    case Format::kFields:
      for (const EndpointHealth& h : hs) {
        t.out += absl::StrFormat(
            "\"Endpoint\" : %s\n\"Health\" : %s\n\"Took\" : %s\n\"Error\" : %s\n\n",
            GoQuote(h.endpoint), h.health ? "true" : "false", h.took, h.error);
      }
      return t;
    case Format::kTable: {
      std::vector<std::vector<std::string>> rows;
      for (const EndpointHealth& h : hs) {
        rows.push_back({h.endpoint, h.health ? "true" : "false", h.took, h.error});
      }
      t.out = Table({"ENDPOINT", "HEALTH", "TOOK", "ERROR"}, rows);
      return t;
    }
    case Format::kProtobuf:
      break;
  }
  return ExitError(kExitBadFeature, "protobuf not supported as output format");
}

absl::StatusOr<std::string> PrintSnapshotStatus(Format f, const SnapshotStatusView& s) {
  switch (f) {
    case Format::kSimple:
      return absl::StrFormat("%x, %d, %d, %s\n", s.hash, s.revision, s.total_key,
                             HumanizeBytes(uint64_t(s.total_size)));
    case Format::kJson:
      return absl::StrFormat("{\"hash\":%d,\"revision\":%d,\"totalKey\":%d,\"totalSize\":%d}\n",
                             s.hash, s.revision, s.total_key, s.total_size);
    case Format::kFields:
      return absl::StrFormat(
          "\"Hash\" : %d\n\"Revision\" : %d\n\"Keys\" : %d\n\"Size\" : %d\n", s.hash,
          s.revision, s.total_key, s.total_size);
    case Format::kTable:
      return Table({"HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"},
                   {{absl::StrFormat("%x", s.hash), std::to_string(s.revision),
                     std::to_string(s.total_key), HumanizeBytes(uint64_t(s.total_size))}});
    case Format::kProtobuf: return NoProtobuf();
  }
  return NoProtobuf();
}

}  // namespace revkv::cli
