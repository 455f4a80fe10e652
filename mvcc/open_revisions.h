// OpenRevisions: the current and compacted revisions a store derives at open
// from what its backend holds, as one pure function, so that the store and
// the tools that judge a store file without opening one (snapshot status and
// restore) cannot disagree about them.
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_MVCC_OPEN_REVISIONS_H_
#define REVKV_MVCC_OPEN_REVISIONS_H_

#include <algorithm>
#include <cstdint>

namespace revkv::mvcc {

struct OpenRevisions {
  int64_t current = 1;     // the store's revision (a fresh store is at 1)
  int64_t compacted = -1;  // -1 when never compacted
};

// `last_record`: the main revision of the key bucket's last record, or 1
// (a fresh store's revision) when the bucket is empty. `finished` and
// `scheduled`: the meta bucket's finishedCompactRev and scheduledCompactRev,
// -1 when absent.
//
// The current revision never goes backwards: compaction may have removed
// every record up to the compacted or scheduled revision, so it is the
// largest of the three. The compacted revision is the finished one, raised
// to the scheduled one, whose compaction open resumes.
inline OpenRevisions DeriveOpenRevisions(int64_t last_record, int64_t finished,
                                         int64_t scheduled) {
  return OpenRevisions{std::max({last_record, finished, scheduled}),
                       std::max(finished, scheduled)};
}

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_OPEN_REVISIONS_H_
