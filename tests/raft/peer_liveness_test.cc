// raft/peer_liveness.h: a connection raft's TCP transport opened fails its
// next write at once after the peer closes it (instead of swallowing it),
// and a vote message whose write failed is sent once more, intact, while
// other messages are not.
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
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

// --- WatchPeerConnections, over raft's real TCP transport ---

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

TEST(WatchPeerConnectionsTest, AWriteAfterThePeerClosedFailsAtOnce) {
  // As RaftNode::Start sets it: a write to a closed connection is an error.
  signal(SIGPIPE, SIG_IGN);
  // The peer: accepts one connection, reads raft's handshake, closes it.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  const std::string peer = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::thread peer_thread([listener] {
    const int fd = accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    char buf[256];
    (void)read(fd, buf, sizeof buf);
    close(fd);
  });

  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  raft_uv_transport t{};
  ASSERT_EQ(raft_uv_tcp_init(&t, &loop), 0);
  ASSERT_EQ(t.init(&t, 1, "127.0.0.1:1"), 0);
  WatchPeerConnections(&t);
  Connection c;
  raft_uv_connect req{};
  req.data = &c;
  ASSERT_EQ(t.connect(&t, &req, 2, peer.c_str(), &Connected), 0);
  ASSERT_TRUE(RunUntil(&loop, [&] { return c.status != 1; }));
  ASSERT_EQ(c.status, 0);
  peer_thread.join();
  close(listener);

  // The close is seen (reading stops) without anything being written.
  ASSERT_TRUE(RunUntil(&loop, [&] { return !uv_is_active(reinterpret_cast<uv_handle_t*>(c.stream)); }))
      << "the connection is not read";
  char byte = 'x';
  uv_buf_t buf = uv_buf_init(&byte, 1);
  uv_write_t w;
  Write result;
  w.data = &result;
  ASSERT_EQ(uv_write(&w, c.stream, &buf, 1, &Written), 0);
  ASSERT_TRUE(RunUntil(&loop, [&] { return result.done; }));
  EXPECT_LT(result.status, 0) << "the first write after the peer's close succeeded (lost)";

  uv_close(reinterpret_cast<uv_handle_t*>(c.stream), &StreamClosed);
  t.close(&t, &TransportClosed);
  uv_run(&loop, UV_RUN_DEFAULT);
  raft_uv_tcp_close(&t);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace revkv::cluster
