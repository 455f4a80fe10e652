// SnapshotStream: a std::streambuf that sends what is written to it as
// etcd 3.4's Maintenance.Snapshot stream (maintenance.go): chunks of 32 KiB
// (the last one shorter) each with remaining_bytes = total - sent so far,
// then one more response whose blob is the SHA-256 of every byte sent
// (remaining_bytes 0). etcdctl writes the blobs to the file as they come
// and wants the file to end with that digest.
//
// Thread-safety: not thread-safe; one writer.
#ifndef REVKV_SERVER_SNAPSHOT_STREAM_H_
#define REVKV_SERVER_SNAPSHOT_STREAM_H_

#include <cstdint>
#include <functional>
#include <streambuf>
#include <string>

#include "server/proto/rpc.pb.h"
#include "util/sha256.h"

namespace revkv::server {

inline constexpr size_t kSnapshotChunkBytes = 32 * 1024;

class SnapshotStream final : public std::streambuf {
 public:
  // `send` returns false when the client is gone; writes then fail.
  using Send = std::function<bool(const etcdserverpb::SnapshotResponse&)>;
  SnapshotStream(uint64_t total, Send send);

  // Sends what is buffered, then the digest. False if a send failed or the
  // bytes written were not `total` (the stream would lie about its size).
  bool Finish();
  uint64_t sent() const { return sent_; }
  // A send failed (the client is gone) or more than `total` was written.
  bool failed() const { return failed_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override { return Flush() ? 0 : -1; }

 private:
  bool Flush();

  const uint64_t total_;
  Send send_;
  std::string buf_;
  uint64_t sent_ = 0;
  bool failed_ = false;
  util::Sha256 sha_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_SNAPSHOT_STREAM_H_
