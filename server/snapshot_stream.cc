#include "server/snapshot_stream.h"

#include <utility>

namespace revkv::server {

SnapshotStream::SnapshotStream(uint64_t total, Send send) : total_(total), send_(std::move(send)) {
  buf_.reserve(kSnapshotChunkBytes);
}

bool SnapshotStream::Flush() {
  if (failed_) return false;
  if (buf_.empty()) return true;
  etcdserverpb::SnapshotResponse r;
  sent_ += buf_.size();
  // More bytes than announced would make remaining_bytes wrap: refuse.
  if (sent_ > total_) {
    failed_ = true;
    return false;
  }
  r.set_remaining_bytes(total_ - sent_);
  sha_.Update(buf_);
  r.set_blob(std::move(buf_));
  buf_.clear();
  buf_.reserve(kSnapshotChunkBytes);
  if (!send_(r)) failed_ = true;
  return !failed_;
}

SnapshotStream::int_type SnapshotStream::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
}

std::streamsize SnapshotStream::xsputn(const char* s, std::streamsize n) {
  std::streamsize done = 0;
  while (done < n) {
    if (failed_) return done;
    const size_t take = std::min<size_t>(kSnapshotChunkBytes - buf_.size(), size_t(n - done));
    buf_.append(s + done, take);
    done += std::streamsize(take);
    if (buf_.size() == kSnapshotChunkBytes && !Flush()) return done;
  }
  return done;
}

bool SnapshotStream::Finish() {
  if (!Flush() || sent_ != total_) return false;
  etcdserverpb::SnapshotResponse r;
  r.set_remaining_bytes(0);
  r.set_blob(sha_.Final());
  return send_(r);
}

}  // namespace revkv::server
