#include "backend/snapshot.h"

#include <ostream>

namespace revkv::backend {

absl::Status Snapshot::WriteTo(std::ostream& out) {
  if (tx_ == nullptr) return absl::FailedPreconditionError("backend: snapshot is closed");
  return tx_->WriteTo(out);
}

absl::Status Snapshot::Close() {
  tx_.reset();
  db_.reset();
  return absl::OkStatus();
}

}  // namespace revkv::backend
