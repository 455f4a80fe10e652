// The key-ordered base's names, encodings and read path (key_order_base.h).
#include "mvcc/key_order_base.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {

std::string BaseBucketName(uint64_t gen) {
  return std::string(kBaseBucketPrefix) + std::to_string(gen);
}

bool IsBaseBucket(std::string_view bucket) {
  if (!bucket.starts_with(kBaseBucketPrefix)) return false;
  const std::string_view digits = bucket.substr(kBaseBucketPrefix.size());
  if (digits.empty() || digits.size() > 19 || digits[0] == '0') return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsBaseData(std::string_view bucket, std::string_view key) {
  return IsBaseBucket(bucket) || (bucket == kMetaBucket && key == kBaseMetaKey);
}

namespace {

void AppendU64(uint64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(char(v >> (8 * i)));
}

uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

}  // namespace

std::string EncodeBaseMeta(const BaseMeta& meta) {
  std::string out;
  AppendU64(meta.gen, &out);
  AppendU64(uint64_t(meta.rev), &out);
  return out;
}

absl::StatusOr<BaseMeta> DecodeBaseMeta(std::string_view value) {
  if (value.size() != 16) {
    return absl::DataLossError(
        absl::StrFormat("mvcc: meta key %s is %d bytes, not 16", kBaseMetaKey, value.size()));
  }
  return BaseMeta{LoadU64(value.data()), int64_t(LoadU64(value.data() + 8))};
}

void AppendBaseEntry(Revision rev, std::string_view record, std::string* out) {
  AppendRevisionKey(rev, false, out);
  out->append(record);
}

absl::Status DecodeBaseEntry(std::string_view value, Revision* rev, std::string_view* record) {
  bool tombstone = false;
  if (value.size() < kRevBytes || !ParseRevisionKey(value.substr(0, kRevBytes), rev, &tombstone) ||
      tombstone) {
    return absl::DataLossError("mvcc: key-ordered base entry has no valid revision");
  }
  *record = value.substr(kRevBytes);
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReadFromBase(backend::ConcurrentReadTx& view, std::string_view bucket,
                                    std::string_view start, std::string_view end,
                                    std::string_view last, absl::Span<const Revision> revs,
                                    KeyValue* out, std::vector<char>* found) {
  found->assign(revs.size(), 0);
  size_t matched = 0;
  size_t next = 0;  // the first revision not matched yet, in key order
  // Built at the first entry that is not the next key's: a fresh base
  // matches in order and never needs it.
  absl::flat_hash_map<std::pair<int64_t, int64_t>, uint32_t> where;
  absl::Status err;
  absl::Status scan = view.UnsafeScan(bucket, start, end, [&](std::string_view k,
                                                              std::string_view v) {
    if (!last.empty() && k > last) return false;
    Revision rev;
    std::string_view record;
    if (err = DecodeBaseEntry(v, &rev, &record); !err.ok()) return false;
    while (next < revs.size() && (*found)[next]) ++next;
    size_t i = revs.size();
    if (next < revs.size() && revs[next] == rev) {
      i = next;
    } else {
      if (where.empty()) {
        where.reserve(revs.size());
        for (size_t j = 0; j < revs.size(); ++j) where[{revs[j].main, revs[j].sub}] = uint32_t(j);
      }
      auto it = where.find({rev.main, rev.sub});
      if (it == where.end() || (*found)[it->second]) return true;  // stale: not the index's
      i = it->second;
    }
    if (err = DecodeKeyValue(record, &out[i]); !err.ok()) return false;
    if (out[i].key != k || out[i].mod_revision != rev.main) {
      err = absl::DataLossError(absl::StrFormat(
          "mvcc: key-ordered base entry %s holds the record of another key or revision",
          absl::CHexEscape(absl::string_view(k.data(), k.size()))));
      return false;
    }
    (*found)[i] = 1;
    return ++matched < revs.size();
  });
  if (!scan.ok()) return scan;
  if (!err.ok()) return err;
  return matched;
}

}  // namespace revkv::mvcc
