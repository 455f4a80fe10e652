#include "raft/peer_liveness.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>
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
using CloseFn = void (*)(raft_io*, raft_io_close_cb);
std::atomic<CloseFn> g_close{nullptr};

// The close callbacks not yet run, by I/O (each loop closes its own I/O on
// its thread).
thread_local std::map<raft_io*, raft_io_close_cb> t_closing;

void ClosedOnce(raft_io* io) {
  auto it = t_closing.find(io);
  if (it == t_closing.end()) return;  // a second report
  raft_io_close_cb cb = it->second;
  t_closing.erase(it);
  if (cb != nullptr) cb(io);
}

void Close(raft_io* io, raft_io_close_cb cb) {
  t_closing[io] = cb;
  g_close.load()(io, &ClosedOnce);
}

// --- WatchPeerConnections ---

// The connections raft opened on this thread's loop, and the peer each goes
// to (each raft loop runs on a thread of its own, where raft calls connect,
// its callback and send). A stream pointer is trusted only while uv_walk
// still finds it among the loop's open handles: raft frees a stream once it
// is closed, and the memory may come back as another handle.
struct Opened {
  uv_loop_t* loop = nullptr;
  std::map<raft_uv_connect*, std::string> connecting;
  std::map<uv_stream_t*, std::string> peer;
};
thread_local Opened t_opened;

void Connected(raft_uv_connect* req, uv_stream_t* stream, int status) {
  if (status == 0 && stream != nullptr && stream->type == UV_TCP) {
    // Nagle's algorithm off (see the header): the peer never writes on this
    // connection, so no answer of its carries the ACK a held message waits for.
    uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream), 1);
  }
  auto it = t_opened.connecting.find(req);
  if (it != t_opened.connecting.end()) {
    if (status == 0 && stream != nullptr) {
      t_opened.loop = stream->loop;
      t_opened.peer[stream] = std::move(it->second);
    }
    t_opened.connecting.erase(it);
  }
  g_connect_cb.load()(req, stream, status);
}

int Connect(raft_uv_transport* t, raft_uv_connect* req, raft_id id, const char* address,
            raft_uv_connect_cb cb) {
  g_connect_cb.store(cb);
  t_opened.connecting[req] = address;
  const int rv = g_connect.load()(t, req, id, address, &Connected);
  if (rv != 0) t_opened.connecting.erase(req);
  return rv;
}

// True if the peer closed or reset the connection on `fd`. raft's peers
// never write on a connection we opened, so anything readable is the end.
bool PeerGone(int fd) {
  char byte;
  const ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

struct Walk {
  std::set<uv_stream_t*> open;
};

void Collect(uv_handle_t* h, void* arg) {
  if (h->type == UV_TCP && !uv_is_closing(h)) {
    static_cast<Walk*>(arg)->open.insert(reinterpret_cast<uv_stream_t*>(h));
  }
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
  if (message->server_address != nullptr) ProbePeerConnections(message->server_address);
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

int ProbePeerConnections(const std::string& address) {
  if (t_opened.loop == nullptr) return 0;
  Walk walk;
  uv_walk(t_opened.loop, &Collect, &walk);
  int shut = 0;
  for (auto it = t_opened.peer.begin(); it != t_opened.peer.end();) {
    if (walk.open.count(it->first) == 0) {
      it = t_opened.peer.erase(it);  // closed by raft since
      continue;
    }
    uv_os_fd_t fd;
    if (it->second == address &&
        uv_fileno(reinterpret_cast<uv_handle_t*>(it->first), &fd) == 0 && PeerGone(fd)) {
      // Behind libuv's back, so the stream stays writable to libuv and the
      // write fails in its callback (EPIPE): raft 0.15 treats a write that
      // fails at once, inside its receive path, as fatal to the member.
      shutdown(fd, SHUT_WR);
      ++shut;
    }
    ++it;
  }
  return shut;
}

void WatchPeerConnections(raft_uv_transport* transport) {
  if (transport->connect == &Connect) return;
  ConnectFn expected = nullptr;
  if (!g_connect.compare_exchange_strong(expected, transport->connect) &&
      expected != transport->connect) {
    std::abort();  // a second transport implementation in one process
  }
  transport->connect = &Connect;
}

void CloseCallbackOnce(raft_io* io) {
  if (io->close == &Close) return;
  CloseFn expected = nullptr;
  if (!g_close.compare_exchange_strong(expected, io->close) && expected != io->close) {
    std::abort();  // a second I/O implementation in one process
  }
  io->close = &Close;
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
