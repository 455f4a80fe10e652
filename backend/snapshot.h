// Snapshot: a consistent, streamable copy of a whole backend database, as of
// the moment Backend::NewSnapshot returned (pending writes committed first).
//
// WriteTo streams a complete btree file (both meta pages describe the
// snapshot) from a btree read transaction: it never blocks writes or commits,
// and the pages it copies cannot change while the snapshot is open. An open
// snapshot pins those pages (the file may grow meanwhile): Close it promptly.
// It may outlive the Backend.
//
// Thread-safety: not thread-safe; use from one thread at a time.
#ifndef REVKV_BACKEND_SNAPSHOT_H_
#define REVKV_BACKEND_SNAPSHOT_H_

#include <cstdint>
#include <iosfwd>
#include <memory>

#include "absl/status/status.h"
#include "btree/db.h"
#include "btree/tx.h"

namespace revkv::backend {

class Snapshot {
 public:
  ~Snapshot() { Close().IgnoreError(); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Bytes WriteTo writes (0 once closed).
  uint64_t Size() const { return tx_ != nullptr ? tx_->Size() : 0; }
  // The read transaction whose pages WriteTo writes, to read what the
  // snapshot holds; null once closed. Do not keep it past Close.
  btree::Tx* tx() { return tx_.get(); }
  // Writes the snapshot as a btree file. FailedPrecondition once closed.
  absl::Status WriteTo(std::ostream& out);
  // Releases the snapshot. Idempotent.
  absl::Status Close();

 private:
  friend class Backend;
  Snapshot(std::shared_ptr<btree::DB> db, std::unique_ptr<btree::Tx> tx)
      : db_(std::move(db)), tx_(std::move(tx)) {}

  std::shared_ptr<btree::DB> db_;  // outlives tx_
  std::unique_ptr<btree::Tx> tx_;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_SNAPSHOT_H_
