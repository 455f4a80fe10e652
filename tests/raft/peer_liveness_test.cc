// raft/peer_liveness.h: once probed, a connection raft's TCP transport opened
// fails its next write (in the write's callback, never at once) if the peer
// closed or reset it, instead of swallowing it, and is left alone if the
// peer is still there; a vote message whose write failed is sent once more,
// intact, while other messages are not.
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "raft/c_raft.h"
#include "raft/peer_liveness.h"

namespace revkv::cluster {
namespace {

// --- ResendFailedVotes, over an I/O whose sends the test completes ---

struct SentMessage {
  raft_io_send* req;
  raft_io_send_cb cb;
  unsigned short type;
  raft_term term;
  std::string address;
};
std::vector<SentMessage>* g_sent = nullptr;

int FakeSend(raft_io*, raft_io_send* req, const raft_message* m, raft_io_send_cb cb) {
  g_sent->push_back({req, cb, m->type, m->request_vote.term, m->server_address});
  return 0;
}

struct Answer {
  int calls = 0;
  int status = -1;
};
void Answered(raft_io_send* req, int status) {
  Answer* a = static_cast<Answer*>(req->data);
  ++a->calls;
  a->status = status;
}

class ResendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_sent = &sent_;
    io_.send = &FakeSend;
    ResendFailedVotes(&io_);
  }
  void TearDown() override { g_sent = nullptr; }

  // Completes the oldest send still pending with `status`.
  void Complete(int status) {
    ASSERT_FALSE(sent_.empty());
    SentMessage m = sent_[done_++];
    m.cb(m.req, status);
  }

  raft_io io_{};
  std::vector<SentMessage> sent_;
  size_t done_ = 0;
};

TEST_F(ResendTest, AVoteWhoseWriteFailedIsSentOnceMoreIntact) {
  Answer answer;
  raft_io_send req{&answer, nullptr};
  {
    std::string address = "127.0.0.1:4001";
    raft_message m{};
    m.type = RAFT_IO_REQUEST_VOTE;
    m.server_id = 7;
    m.server_address = address.c_str();
    m.request_vote.term = 42;
    ASSERT_EQ(io_.send(&io_, &req, &m, &Answered), 0);
    // The caller's message and address are gone before the resend.
    address.assign(address.size(), 'x');
    m.request_vote.term = 0;
  }
  Complete(RAFT_IOERR);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].type, RAFT_IO_REQUEST_VOTE);
  EXPECT_EQ(sent_[1].term, 42u);
  EXPECT_EQ(sent_[1].address, "127.0.0.1:4001");
  EXPECT_EQ(answer.calls, 0) << "answered before the resend ended";
  Complete(0);
  EXPECT_EQ(answer.calls, 1);
  EXPECT_EQ(answer.status, 0);
}

TEST_F(ResendTest, ASecondFailureIsReportedAndNotRetried) {
  Answer answer;
  raft_io_send req{&answer, nullptr};
  raft_message m{};
  m.type = RAFT_IO_REQUEST_VOTE_RESULT;
  m.server_address = "127.0.0.1:4002";
  ASSERT_EQ(io_.send(&io_, &req, &m, &Answered), 0);
  Complete(RAFT_IOERR);
  Complete(RAFT_IOERR);
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_EQ(answer.calls, 1);
  EXPECT_EQ(answer.status, RAFT_IOERR);
}

TEST_F(ResendTest, OtherMessagesAndCancellationsAreNotResent) {
  Answer append, cancelled;
  raft_io_send append_req{&append, nullptr}, cancelled_req{&cancelled, nullptr};
  raft_message m{};
  m.type = RAFT_IO_APPEND_ENTRIES;
  m.server_address = "127.0.0.1:4003";
  ASSERT_EQ(io_.send(&io_, &append_req, &m, &Answered), 0);
  m.type = RAFT_IO_TIMEOUT_NOW;
  ASSERT_EQ(io_.send(&io_, &cancelled_req, &m, &Answered), 0);
  Complete(RAFT_IOERR);
  Complete(RAFT_CANCELED);
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_EQ(append.status, RAFT_IOERR);
  EXPECT_EQ(cancelled.status, RAFT_CANCELED);
  // The append went to the library untouched: its own request and callback.
  EXPECT_EQ(sent_[0].req, &append_req);
}

// --- CloseCallbackOnce, over an I/O that reports its close twice ---

int g_closed = 0;
void CountClose(raft_io*) { ++g_closed; }
void ReportTwice(raft_io* io, raft_io_close_cb cb) {
  cb(io);
  cb(io);
}

TEST(CloseCallbackOnceTest, ASecondReportOfTheCloseIsDropped) {
  raft_io io{};
  io.close = &ReportTwice;
  CloseCallbackOnce(&io);
  CloseCallbackOnce(&io);  // wrapping twice wraps once
  g_closed = 0;
  io.close(&io, &CountClose);
  EXPECT_EQ(g_closed, 1);
  // A later close of the same I/O (a new raft on it) is reported again.
  io.close(&io, &CountClose);
  EXPECT_EQ(g_closed, 2);
}

// --- WatchPeerConnections and the probe, over raft's real TCP transport ---

struct Connection {
  uv_stream_t* stream = nullptr;
  int status = 1;
};
void Connected(raft_uv_connect* req, uv_stream_t* stream, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  c->stream = stream;
  c->status = status;
}

struct Write {
  bool done = false;
  int status = 0;
};
void Written(uv_write_t* w, int status) {
  Write* r = static_cast<Write*>(w->data);
  r->done = true;
  r->status = status;
}

void TransportClosed(raft_uv_transport*) {}
void StreamClosed(uv_handle_t* h) { raft_free(h); }

// Runs `loop` until `done()` holds, at most `max_turns` turns (each waits
// for the next event).
template <typename Done>
bool RunUntil(uv_loop_t* loop, Done done, int max_turns = 1000) {
  for (int i = 0; i < max_turns && !done(); ++i) uv_run(loop, UV_RUN_ONCE);
  return done();
}

enum class PeerEnd { kClose, kReset, kStay };

// A transport on its own loop, connected to a peer that accepts one
// connection, reads raft's handshake, then ends it as asked.
class ProbeTest : public ::testing::TestWithParam<PeerEnd> {
 protected:
  void SetUp() override {
    // As RaftNode::Start sets it: a write to a closed connection is an error.
    signal(SIGPIPE, SIG_IGN);
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(listener_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ASSERT_EQ(listen(listener_, 1), 0);
    peer_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    accepted_ = std::thread([this] {
      peer_fd_ = accept(listener_, nullptr, nullptr);
      char buf[256];
      if (peer_fd_ >= 0) (void)read(peer_fd_, buf, sizeof buf);
    });
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(raft_uv_tcp_init(&t_, &loop_), 0);
    ASSERT_EQ(t_.init(&t_, 1, "127.0.0.1:1"), 0);
    WatchPeerConnections(&t_);
    req_.data = &c_;
    ASSERT_EQ(t_.connect(&t_, &req_, 2, peer_.c_str(), &Connected), 0);
    ASSERT_TRUE(RunUntil(&loop_, [&] { return c_.status != 1; }));
    ASSERT_EQ(c_.status, 0);
    accepted_.join();
    ASSERT_GE(peer_fd_, 0);
  }

  void TearDown() override {
    if (c_.stream != nullptr) uv_close(reinterpret_cast<uv_handle_t*>(c_.stream), &StreamClosed);
    t_.close(&t_, &TransportClosed);
    uv_run(&loop_, UV_RUN_DEFAULT);
    raft_uv_tcp_close(&t_);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    if (peer_fd_ >= 0) close(peer_fd_);
    close(listener_);
  }

  // Ends the peer's side as `how`, and waits until our side has seen it.
  void EndPeer(PeerEnd how) {
    if (how == PeerEnd::kStay) return;
    if (how == PeerEnd::kReset) {
      linger l{1, 0};  // close with a reset
      ASSERT_EQ(setsockopt(peer_fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    }
    close(peer_fd_);
    peer_fd_ = -1;
    uv_os_fd_t fd;
    ASSERT_EQ(uv_fileno(reinterpret_cast<uv_handle_t*>(c_.stream), &fd), 0);
    pollfd p{fd, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1) << "our side never saw the peer's end";
  }

  // Writes one byte the way raft does; its callback's status.
  int WriteOne() {
    char byte = 'x';
    uv_buf_t buf = uv_buf_init(&byte, 1);
    uv_write_t w;
    Write result;
    w.data = &result;
    // Never refused at once: raft 0.15 stops the member on that.
    EXPECT_EQ(uv_write(&w, c_.stream, &buf, 1, &Written), 0);
    EXPECT_TRUE(RunUntil(&loop_, [&] { return result.done; }));
    return result.status;
  }

  int listener_ = -1, peer_fd_ = -1;
  std::string peer_;
  std::thread accepted_;
  uv_loop_t loop_{};
  raft_uv_transport t_{};
  raft_uv_connect req_{};
  Connection c_;
};

TEST_P(ProbeTest, AProbedWriteFailsIfAndOnlyIfThePeerEndedTheConnection) {
  EndPeer(GetParam());
  const bool ended = GetParam() != PeerEnd::kStay;
  EXPECT_EQ(ProbePeerConnections("127.0.0.1:9"), 0) << "another peer's connections are not touched";
  EXPECT_EQ(ProbePeerConnections(peer_), ended ? 1 : 0);
  const int status = WriteOne();
  if (ended) {
    EXPECT_LT(status, 0) << "the write after the peer's end succeeded: the message is lost";
  } else {
    EXPECT_EQ(status, 0);
  }
}

TEST_P(ProbeTest, WithoutTheProbeTheFirstWriteAfterAPeerCloseIsLost) {
  // What the probe repairs: after a plain close, the kernel takes the write.
  if (GetParam() != PeerEnd::kClose) GTEST_SKIP();
  EndPeer(PeerEnd::kClose);
  EXPECT_EQ(WriteOne(), 0);
}

// A connection raft opens has Nagle's algorithm off (peer_liveness.h: a
// pipelined AppendEntries would wait for the follower's delayed ACK).
TEST_P(ProbeTest, ConnectionsRaftOpensSendWithoutDelay) {
  if (GetParam() != PeerEnd::kStay) GTEST_SKIP();
  uv_os_fd_t fd;
  ASSERT_EQ(uv_fileno(reinterpret_cast<uv_handle_t*>(c_.stream), &fd), 0);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);
}

INSTANTIATE_TEST_SUITE_P(PeerEnds, ProbeTest,
                         ::testing::Values(PeerEnd::kClose, PeerEnd::kReset, PeerEnd::kStay));

}  // namespace
}  // namespace revkv::cluster
