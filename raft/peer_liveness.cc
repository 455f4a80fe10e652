#include "raft/peer_liveness.h"

#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace revkv::cluster {
namespace {

using ConnectFn = int (*)(raft_uv_transport*, raft_uv_connect*, raft_id, const char*,
                          raft_uv_connect_cb);
using SendFn = int (*)(raft_io*, raft_io_send*, const raft_message*, raft_io_send_cb);

// The library's own functions, the same for every instance (atomics: nodes
// of one process install them from their own threads).
std::atomic<ConnectFn> g_connect{nullptr};
std::atomic<raft_uv_connect_cb> g_connect_cb{nullptr};
std::atomic<SendFn> g_send{nullptr};

// --- WatchPeerConnections ---

void Alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  // raft's peers write nothing back on a connection we opened; the buffer
  // only has to exist for the EOF.
  thread_local char bytes[64];
  *buf = uv_buf_init(bytes, sizeof bytes);
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  if (nread >= 0) return;
  // The peer closed (or reset) the connection: make raft's next write on it
  // fail (EPIPE) rather than vanish, so raft reconnects and reports it.
  uv_read_stop(stream);
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(stream), &fd) == 0) shutdown(fd, SHUT_WR);
}

void Connected(raft_uv_connect* req, uv_stream_t* stream, int status) {
  if (status == 0 && stream != nullptr) uv_read_start(stream, &Alloc, &OnRead);
  g_connect_cb.load()(req, stream, status);
}

int Connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id, const char* address,
            raft_uv_connect_cb cb) {
  g_connect_cb.store(cb);
  return g_connect.load()(t, req, id, address, &Connected);
}

// --- ResendFailedVotes ---

// One vote message in flight: a copy that outlives the caller's, and the
// caller's request, answered once the copy's sends end.
struct VoteSend {
  raft_io_send req{};
  raft_message message{};
  std::string address;
  raft_io* io = nullptr;
  raft_io_send* caller = nullptr;
  raft_io_send_cb caller_cb = nullptr;
  bool resent = false;
};

void VoteSent(raft_io_send* req, int status) {
  VoteSend* v = static_cast<VoteSend*>(req->data);
  if (status == RAFT_IOERR && !v->resent) {
    v->resent = true;
    if (g_send.load()(v->io, &v->req, &v->message, &VoteSent) == 0) return;
  }
  raft_io_send* caller = v->caller;
  raft_io_send_cb cb = v->caller_cb;
  delete v;
  if (cb != nullptr) cb(caller, status);
}

bool IsVote(unsigned short type) {
  return type == RAFT_IO_REQUEST_VOTE || type == RAFT_IO_REQUEST_VOTE_RESULT ||
         type == RAFT_IO_TIMEOUT_NOW;
}

int Send(raft_io* io, raft_io_send* req, const raft_message* message, raft_io_send_cb cb) {
  if (!IsVote(message->type)) return g_send.load()(io, req, message, cb);
  VoteSend* v = new VoteSend;
  v->message = *message;
  v->address = message->server_address != nullptr ? message->server_address : "";
  v->message.server_address = v->address.c_str();
  v->io = io;
  v->caller = req;
  v->caller_cb = cb;
  v->req.data = v;
  const int rv = g_send.load()(io, &v->req, &v->message, &VoteSent);
  if (rv != 0) delete v;  // raft keeps its request and sees the error
  return rv;
}

}  // namespace

void WatchPeerConnections(raft_uv_transport* transport) {
  if (transport->connect == &Connect) return;
  ConnectFn expected = nullptr;
  if (!g_connect.compare_exchange_strong(expected, transport->connect) &&
      expected != transport->connect) {
    std::abort();  // a second transport implementation in one process
  }
  transport->connect = &Connect;
}

void ResendFailedVotes(raft_io* io) {
  if (io->send == &Send) return;
  SendFn expected = nullptr;
  if (!g_send.compare_exchange_strong(expected, io->send) && expected != io->send) {
    std::abort();  // a second I/O implementation in one process
  }
  io->send = &Send;
}

}  // namespace revkv::cluster
