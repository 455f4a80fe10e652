// The revisions a snapshot's content holds -- what a store opened on it would
// have -- and the cross-check of a trailer against them.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "btree/bucket.h"
#include "btree/cursor.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"
#include "snapshot/content.h"

namespace revkv::snapshot {
namespace {

// The bucket `name`, or null when the content has none (a store creates it
// empty at open).
absl::StatusOr<btree::Bucket*> BucketOrNull(btree::Tx& tx, const char* name) {
  absl::StatusOr<btree::Bucket*> b = tx.GetBucket(name);
  if (absl::IsNotFound(b.status())) return nullptr;
  return b;
}

// The main revision stored as the value of meta key `name`, -1 when absent
// (mvcc::ReadMetaRevision's reading).
absl::StatusOr<int64_t> MetaRevision(btree::Bucket* meta, const char* name) {
  if (meta == nullptr) return int64_t{-1};
  std::string_view v;
  absl::Status s = meta->Get(name, &v);
  if (absl::IsNotFound(s)) return int64_t{-1};
  if (!s.ok()) return s;
  mvcc::Revision rev;
  bool tombstone;
  if (!mvcc::ParseRevisionKey(v, &rev, &tombstone)) {
    return absl::DataLossError(absl::StrFormat("mvcc: meta key %s is malformed", name));
  }
  return rev.main;
}

}  // namespace

absl::StatusOr<mvcc::OpenRevisions> RevisionsOfContent(btree::Tx& tx) {
  absl::StatusOr<btree::Bucket*> key = BucketOrNull(tx, mvcc::kKeyBucket);
  if (!key.ok()) return key.status();
  int64_t last_record = 1;  // an empty key bucket: a fresh store's revision
  if (*key != nullptr) {
    btree::Cursor c = (*key)->NewCursor();
    c.Last();
    if (!c.status().ok()) return c.status();
    if (c.Valid()) {
      mvcc::Revision rev;
      bool tombstone;
      if (!mvcc::ParseRevisionKey(c.key(), &rev, &tombstone)) {
        return absl::DataLossError("mvcc: malformed revision key in the key bucket");
      }
      last_record = rev.main;
    }
  }
  absl::StatusOr<btree::Bucket*> meta = BucketOrNull(tx, mvcc::kMetaBucket);
  if (!meta.ok()) return meta.status();
  absl::StatusOr<int64_t> finished = MetaRevision(*meta, mvcc::kFinishedCompactKey);
  if (!finished.ok()) return finished.status();
  absl::StatusOr<int64_t> scheduled = MetaRevision(*meta, mvcc::kScheduledCompactKey);
  if (!scheduled.ok()) return scheduled.status();
  return mvcc::DeriveOpenRevisions(last_record, *finished, *scheduled);
}

absl::Status CheckTrailerAgainstContent(const std::string& path, const Trailer& t,
                                        const mvcc::OpenRevisions& content) {
  absl::Status s;
  if (t.revision != content.current) {
    s = ErrTrailerContradictsContent("revision", t.revision, content.current);
  } else if (t.compact_revision != content.compacted) {
    s = ErrTrailerContradictsContent("compact revision", t.compact_revision, content.compacted);
  } else {
    return absl::OkStatus();
  }
  return WithPathPrefix(path, s);
}

absl::Status WithPathPrefix(const std::string& path, const absl::Status& s) {
  absl::Status out(s.code(), absl::StrCat(path, ": ", s.message()));
  // Through a string: copying a Cord needs absl's cordz, which is not linked.
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, absl::Cord(std::string(payload)));
  });
  return out;
}

}  // namespace revkv::snapshot
