// Crashes: a writer process killed at a random moment, power lost after any
// write of a commit, and failed writes and syncs. After each, the file must
// open with the last acknowledged commit (or the one in flight) and a clean
// Check.
//
// Replay with REVKV_SEED=<seed>.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/fault_env.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::CheckClean;
using testutil::Contents;
using testutil::DiffContents;
using testutil::Dump;
using testutil::ScopedTempDir;

std::string TxKey(uint64_t k) { return absl::StrFormat("k%08d", k); }
std::string TxValue(uint64_t k) {
  std::string v = absl::StrFormat("value of %d ", k);
  v.resize(20 + k % 80, '.');
  return v;
}

// --- A killed writer process -------------------------------------------------

// The child: commits k = last+1, last+2, ... (tx k puts TxKey(k), some filler
// of a size depending on k, and "last" = k) and writes each k to `ack_fd`
// once Commit has returned. Never returns.
[[noreturn]] void RunWriterChild(const std::string& path, int ack_fd) {
  signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  if (!db.ok()) _exit(3);
  uint64_t k = 0;
  absl::Status s = (*db)->View([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (absl::IsNotFound(b.status())) return absl::OkStatus();
    if (!b.ok()) return b.status();
    std::string_view v;
    if (absl::Status g = (*b)->Get("last", &v); !g.ok()) return g;
    if (!absl::SimpleAtoi(std::string(v), &k)) return absl::DataLossError("bad last");
    return absl::OkStatus();
  });
  if (!s.ok()) _exit(4);
  for (;;) {
    ++k;
    s = (*db)->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      if (absl::Status p = (*b)->Put(TxKey(k), TxValue(k)); !p.ok()) return p;
      absl::StatusOr<Bucket*> f = tx.CreateBucketIfNotExists("filler");
      if (!f.ok()) return f.status();
      // From nothing to several pages, and now and then an overflow value.
      const size_t filler = (k * 7919) % 23;
      for (size_t i = 0; i < filler; ++i) {
        std::string key = absl::StrFormat("f%03d", (k + i) % 500);
        if (absl::Status p = (*f)->Put(key, std::string(100 + (k + i) % 300, 'f')); !p.ok()) {
          return p;
        }
      }
      if (k % 5 == 0) {
        if (absl::Status p = (*f)->Put("big", std::string(5000 + k % 20000, 'B')); !p.ok()) {
          return p;
        }
      }
      return (*b)->Put("last", absl::StrCat(k));
    });
    if (!s.ok()) _exit(5);
    if (write(ack_fd, &k, sizeof k) != sizeof k) _exit(0);  // the parent is gone
  }
}

// Reads one acknowledgement; false at end of file.
bool ReadAck(int fd, uint64_t* k) {
  size_t got = 0;
  char* p = reinterpret_cast<char*>(k);
  while (got < sizeof *k) {
    ssize_t r = read(fd, p + got, sizeof *k - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += size_t(r);
  }
  return true;
}

TEST(CrashTest, KilledWriterKeepsEveryAcknowledgedCommit) {
  const uint64_t seed = testutil::TestSeed(20261121);
  std::mt19937_64 rng(seed);
  ScopedTempDir dir;
  const std::string path = dir.File("db");
  uint64_t durable = 0;  // "last" as verified after the previous round
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    // The first round needs one commit so that the file exists complete.
    const uint64_t acks_before_kill = (round == 0 ? 1 : 0) + rng() % 30;
    SCOPED_TRACE(absl::StrFormat("round %d, killed after %d acknowledgements", round,
                                 acks_before_kill));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunWriterChild(path, fds[1]);
    }
    close(fds[1]);
    uint64_t last_ack = durable, k;
    uint64_t acks = 0;
    while (acks < acks_before_kill && ReadAck(fds[0], &k)) {
      EXPECT_EQ(k, last_ack + 1);
      last_ack = k;
      ++acks;
    }
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_EQ(acks, acks_before_kill)
        << "the writer stopped early: "
        << (WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                              : absl::StrCat("signal ", WTERMSIG(status)));
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // Acknowledgements already in the pipe count too.
    while (ReadAck(fds[0], &k)) last_ack = k;
    close(fds[0]);

    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_OK(db);
    uint64_t last = 0;
    ASSERT_OK((*db)->View([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.GetBucket("b");
      if (!b.ok()) return b.status();
      std::string_view v;
      if (absl::Status g = (*b)->Get("last", &v); !g.ok()) return g;
      EXPECT_TRUE(absl::SimpleAtoi(std::string(v), &last)) << v;
      for (uint64_t i = 1; i <= last; ++i) {
        absl::Status g = (*b)->Get(TxKey(i), &v);
        EXPECT_TRUE(g.ok()) << TxKey(i) << ": " << g;
        if (!g.ok()) break;
        EXPECT_EQ(v, TxValue(i));
      }
      if (absl::Status g = (*b)->Get(TxKey(last + 1), &v); !absl::IsNotFound(g)) {
        ADD_FAILURE() << TxKey(last + 1) << " present beyond last " << last << ": " << g;
      }
      return absl::OkStatus();
    }));
    EXPECT_GE(last, last_ack);
    EXPECT_LE(last, last_ack + 1);
    EXPECT_TRUE(CheckClean(**db));
    durable = last;
    if (HasFailure()) return;
  }
  std::cout << kRounds << " kills survived; " << durable << " commits durable" << std::endl;
}

// --- FaultEnv: power loss and failing I/O ---------------------------------------

// State A, built over several commits so that the freelist holds pages that
// commit B will reuse.
absl::Status BuildStateA(DB& db) {
  for (int round = 0; round < 3; ++round) {
    absl::Status s = db.Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 1500; ++i) {
        if (i % 3 == round) {
          if (absl::Status d = (*b)->Delete(TxKey(i)); !d.ok()) return d;
        } else if (absl::Status p = (*b)->Put(TxKey(i), TxValue(i + round)); !p.ok()) {
          return p;
        }
      }
      return (*b)->Put("big", std::string(20000 + round, char('a' + round)));
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// The changes of commit B: rewrites, deletes, a new bucket and a new large
// value (whose overflow span may be written before Commit).
absl::Status ApplyB(Tx& tx) {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    for (int i = 0; i < 1500; i += 2) {
      if (absl::Status p = (*b)->Put(TxKey(i), "B" + TxValue(i)); !p.ok()) return p;
    }
    for (int i = 1; i < 600; i += 4) {
      if (absl::Status d = (*b)->Delete(TxKey(i)); !d.ok()) return d;
    }
    if (absl::Status p = (*b)->Put("big", std::string(70000, 'B')); !p.ok()) return p;
    absl::StatusOr<Bucket*> n = tx.CreateBucket("new");
    if (!n.ok()) return n.status();
    return (*n)->Put("hello", "world");
}

absl::Status CommitB(DB& db) { return db.Update(ApplyB); }

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(template_);
    ASSERT_OK(db);
    ASSERT_OK(BuildStateA(**db));
    absl::StatusOr<Contents> a = Dump(**db);
    ASSERT_OK(a);
    state_a_ = *a;
    ASSERT_OK(CommitB(**db));
    absl::StatusOr<Contents> b = Dump(**db);
    ASSERT_OK(b);
    state_b_ = *b;
    db->reset();
    // The template holds state A only: rebuild it (B was committed to learn
    // its contents).
    ASSERT_EQ(unlink(template_.c_str()), 0);
    db = DB::Open(template_);
    ASSERT_OK(db);
    ASSERT_OK(BuildStateA(**db));
  }

  // A fresh copy of the state-A file.
  std::string Trial(const std::string& name) {
    std::string path = dir_.File(name);
    testutil::WriteFileBytes(path, testutil::ReadFileBytes(template_));
    return path;
  }

  // Reopens `path` with the default Env: returns "A", "B", or a description
  // of what is wrong. Also requires a clean Check.
  std::string StateOf(const std::string& path) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    if (!db.ok()) return absl::StrCat("open: ", db.status().ToString());
    std::vector<std::string> problems;
    if (absl::Status s = (*db)->Check(&problems); !s.ok()) {
      return absl::StrCat("check: ", s.ToString(), testutil::JoinProblems(problems));
    }
    absl::StatusOr<Contents> c = Dump(**db);
    if (!c.ok()) return absl::StrCat("scan: ", c.status().ToString());
    if (DiffContents(state_a_, *c).empty()) return "A";
    if (DiffContents(state_b_, *c).empty()) return "B";
    return absl::StrCat("neither A nor B: vs A: ", DiffContents(state_a_, *c),
                        "; vs B: ", DiffContents(state_b_, *c));
  }

  ScopedTempDir dir_;
  const std::string template_ = dir_.File("template");
  Contents state_a_, state_b_;
};

TEST_F(FaultTest, PowerLossAfterAnyWriteOfACommitLeavesTheOldStateUnlessTheMetaLanded) {
  // How many writes commit B makes.
  uint64_t writes;
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("count"), Options{.env = &env});
    ASSERT_OK(db);
    env.ResetCounters();
    ASSERT_OK(CommitB(**db));
    writes = env.writes();
    EXPECT_GE(env.syncs(), 2u);  // pages, then the meta page
  }
  ASSERT_GT(writes, 1u);
  std::cout << "commit B makes " << writes << " writes" << std::endl;
  for (uint64_t kept = 0; kept <= writes; ++kept) {
    SCOPED_TRACE(absl::StrFormat("power lost after %d of %d writes", kept, writes));
    const std::string path = Trial(absl::StrCat("trial", kept));
    {
      FaultEnv env;
      absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
      ASSERT_OK(db);
      env.StopPersistingAfterWrites(kept);
      EXPECT_OK(CommitB(**db));  // the process does not notice
      // Closing writes nothing more to disk either: power is gone.
    }
    // The meta page is written last: it lands only when every write did.
    EXPECT_EQ(StateOf(path), kept < writes ? "A" : "B");
    std::remove(path.c_str());
  }
}

TEST_F(FaultTest, PowerLossDuringTheSecondOfTwoCommitsKeepsTheFirst) {
  std::string path = Trial("two");
  uint64_t first_writes = 0;
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    env.ResetCounters();
    ASSERT_OK(CommitB(**db));
    first_writes = env.writes();
    env.StopPersistingAfterWrites(3);  // a few writes of the next commit land
    EXPECT_OK((*db)->Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.GetBucket("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 1500; ++i) {
        if (absl::Status d = (*b)->Delete(TxKey(i)); !d.ok()) return d;
      }
      return absl::OkStatus();
    }));
    EXPECT_GT(env.dropped_writes(), 0u);
  }
  EXPECT_GT(first_writes, 0u);
  EXPECT_EQ(StateOf(path), "B");
}

TEST_F(FaultTest, FailedSyncBeforeTheMetaFailsTheCommitPoisonsTheDBAndKeepsTheOldState) {
  const std::string path = Trial("sync1");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    EXPECT_OK((*db)->Poisoned());
    const txid_t before = (*db)->LastTxid();
    env.FailNthSync(1);
    absl::Status s = CommitB(**db);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("injected Sync failure"), std::string::npos) << s;
    EXPECT_FALSE((*db)->Poisoned().ok());
    EXPECT_EQ((*db)->LastTxid(), before);
    // Every later write transaction fails, even with the disk healthy again.
    env.ClearFaults();
    EXPECT_FALSE((*db)->Update([](Tx& tx) { return tx.CreateBucket("x").status(); }).ok());
    // Readers still see the last good commit.
    absl::StatusOr<Contents> c = Dump(**db);
    ASSERT_OK(c);
    EXPECT_EQ(DiffContents(state_a_, *c), "");
  }
  EXPECT_EQ(StateOf(path), "A");
}

TEST_F(FaultTest, FailedSyncAfterTheMetaFailsTheCommitAndPoisonsTheDB) {
  const std::string path = Trial("sync2");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    env.FailNthSync(2);
    absl::Status s = CommitB(**db);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("injected Sync failure"), std::string::npos) << s;
    EXPECT_FALSE((*db)->Poisoned().ok());
    env.ClearFaults();
    EXPECT_FALSE((*db)->Update([](Tx& tx) { return tx.CreateBucket("x").status(); }).ok());
  }
  // The meta page was written but not known durable: either state is right,
  // as long as the file is sound.
  std::string state = StateOf(path);
  EXPECT_TRUE(state == "A" || state == "B") << state;
}

TEST_F(FaultTest, FailedPageWriteInCommitFailsItPoisonsTheDBAndKeepsTheOldState) {
  const std::string path = Trial("write1");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(true));
    ASSERT_OK(ApplyB(*tx));
    env.FailNthWrite(1);  // the first write Commit makes
    absl::Status s = tx->Commit();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("injected WriteAt failure"), std::string::npos) << s;
    tx.reset();
    EXPECT_FALSE((*db)->Poisoned().ok());
    env.ClearFaults();
    absl::Status again = (*db)->Update([](Tx& tx) { return tx.CreateBucket("x").status(); });
    EXPECT_FALSE(again.ok());
  }
  EXPECT_EQ(StateOf(path), "A");
}

TEST_F(FaultTest, FailedOverflowWriteBeforeCommitFailsOnlyThatTransaction) {
  const std::string path = Trial("overflow");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(true));
    ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
    env.FailAll(FaultOp::kWrite);
    absl::Status put = b->Put("big", std::string(70000, 'B'));
    absl::Status s = put.ok() ? tx->Commit() : put;
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("injected WriteAt failure"), std::string::npos) << s;
    tx.reset();
    env.ClearFaults();
    absl::StatusOr<Contents> c = Dump(**db);
    ASSERT_OK(c);
    EXPECT_EQ(DiffContents(state_a_, *c), "");
  }
  EXPECT_EQ(StateOf(path), "A");
}

TEST_F(FaultTest, FailedMetaWriteFailsTheCommitAndKeepsTheOldState) {
  uint64_t writes;
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("count"), Options{.env = &env});
    ASSERT_OK(db);
    env.ResetCounters();
    ASSERT_OK(CommitB(**db));
    writes = env.writes();
  }
  const std::string path = Trial("meta");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    env.FailNthWrite(writes);  // the last write: the meta page
    EXPECT_FALSE(CommitB(**db).ok());
    EXPECT_FALSE((*db)->Poisoned().ok());
  }
  EXPECT_EQ(StateOf(path), "A");
}

TEST_F(FaultTest, EveryWriteFailurePositionLeavesTheOldState) {
  uint64_t writes;
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("count"), Options{.env = &env});
    ASSERT_OK(db);
    env.ResetCounters();
    ASSERT_OK(CommitB(**db));
    writes = env.writes();
  }
  for (uint64_t n = 1; n <= writes; ++n) {
    SCOPED_TRACE(absl::StrFormat("write %d of %d fails", n, writes));
    const std::string path = Trial(absl::StrCat("w", n));
    {
      FaultEnv env;
      absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
      ASSERT_OK(db);
      env.FailNthWrite(n);
      EXPECT_FALSE(CommitB(**db).ok());
    }
    EXPECT_EQ(StateOf(path), "A");
    std::remove(path.c_str());
  }
}

TEST_F(FaultTest, FailedGrowthFailsTheCommitAndKeepsTheOldState) {
  const std::string path = Trial("grow");
  {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    ASSERT_OK(db);
    env.FailAll(FaultOp::kTruncate);
    // Far more than the free pages: the file must grow.
    absl::Status s = (*db)->Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucket("huge");
      if (!b.ok()) return b.status();
      return (*b)->Put("v", std::string(8 << 20, 'h'));
    });
    EXPECT_FALSE(s.ok());
    absl::StatusOr<Contents> c = Dump(**db);
    ASSERT_OK(c);
    EXPECT_EQ(DiffContents(state_a_, *c), "");
  }
  EXPECT_EQ(StateOf(path), "A");
}

TEST(PowerLossTest, PowerLossWhileCreatingAFileLeavesOneThatOpens) {
  ScopedTempDir dir;
  const std::string path = dir.File("db");
  {
    FaultEnv env;
    env.StopPersistingAfterWrites(0);
    // The process itself may notice (it reads back what it wrote): whatever
    // happens here, the file left behind must open.
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
    if (db.ok()) {
      (void)(*db)->Update([](Tx& tx) { return tx.CreateBucket("b").status(); });
    }
    EXPECT_GT(env.dropped_writes(), 0u);
  }
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(**db));
  EXPECT_EQ(DiffContents(Contents{{"", {}}}, c), "");
  EXPECT_TRUE(CheckClean(**db));
}

TEST_F(FaultTest, FailedReadsAtOpenFailTheOpen) {
  FaultEnv env;
  env.FailAll(FaultOp::kRead);
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("read"), Options{.env = &env});
  if (env.reads() == 0) GTEST_SKIP() << "Open reads only through the mapping";
  EXPECT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("injected ReadAt failure"), std::string::npos)
      << db.status();
}

}  // namespace
}  // namespace revkv::btree
