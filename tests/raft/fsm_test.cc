// raft/fsm.h's snapshot and restore, driven directly (no raft): a restore
// makes a member's DB equal to the snapshot's, an older snapshot is not
// restored over a newer DB, and damaged bytes are refused with the DB left
// as it was.
#include "raft/fsm.h"

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "raft/install_snapshot_timeout.h"
#include "server/errors.h"
#include "tests/btree/fault_env.h"
#include "tests/cmd/process.h"
#include "tests/raft/model.h"

namespace revkv::cluster {
namespace {

std::unique_ptr<Fsm> OpenFsm(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Fsm>> f = Fsm::Open(dir, revkv::Options{});
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

// Applies `n` random entries from index applied+1 on.
void ApplyRandom(Fsm* f, std::mt19937_64& rng, int n) {
  for (int i = 0; i < n; ++i) {
    std::string bytes;
    ASSERT_TRUE(testing::RandomRequest(rng).SerializeToString(&bytes));
    const uint64_t index = f->applied_index() + 1;
    ASSERT_TRUE(f->applier()->Apply(index, bytes).status().code() != absl::StatusCode::kDataLoss);
    ASSERT_EQ(f->applied_index(), index);
  }
}

mvcc::HashResult Hash(Fsm* f) {
  absl::StatusOr<mvcc::HashResult> h = f->db()->HashKV(0);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : mvcc::HashResult{};
}

TEST(FsmTest, RestoreMakesTheDbTheSnapshots) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::string root = revkv::testing::NewTempDir("raftfsm");
  std::unique_ptr<Fsm> a = OpenFsm(root + "/a"), b = OpenFsm(root + "/b");
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(a.get(), rng, 300));
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(b.get(), rng, 10));  // different, and behind

  absl::StatusOr<std::string> snap = a->SnapshotBytes(a->applied_index());
  ASSERT_TRUE(snap.ok()) << snap.status();
  const mvcc::HashResult want = Hash(a.get());
  ASSERT_NE(Hash(b.get()).hash, want.hash);

  // Damaged: a flipped content byte, a short header, a wrong length.
  for (size_t at : {size_t(100), snap->size() / 2, snap->size() - 1}) {
    std::string bad = *snap;
    bad[at] ^= 0x40;
    EXPECT_FALSE(b->Restore(bad).ok()) << "byte " << at;
  }
  EXPECT_FALSE(b->Restore(snap->substr(0, 10)).ok());
  EXPECT_FALSE(b->Restore(snap->substr(0, snap->size() - 1)).ok());
  EXPECT_EQ(b->restores(), 0u);
  EXPECT_TRUE(b->failed().ok()) << b->failed();
  EXPECT_EQ(b->applied_index(), 10u);  // untouched, and still serving
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(b.get(), rng, 1));

  ASSERT_TRUE(b->Restore(*snap).ok());
  EXPECT_EQ(b->restores(), 1u);
  const mvcc::HashResult got = Hash(b.get());
  EXPECT_EQ(got.hash, want.hash);
  EXPECT_EQ(got.rev, want.rev);
  EXPECT_EQ(b->applied_index(), a->applied_index());

  // The same (or an older) snapshot again: the DB has it; nothing happens.
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(b.get(), rng, 5));
  const mvcc::HashResult ahead = Hash(b.get());
  ASSERT_TRUE(b->Restore(*snap).ok());
  EXPECT_EQ(b->restores(), 1u);
  EXPECT_EQ(Hash(b.get()).hash, ahead.hash);
  EXPECT_EQ(b->applied_index(), a->applied_index() + 5);

  // And the DB survives a reopen with what the restore gave it.
  b.reset();
  b = OpenFsm(root + "/b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->applied_index(), a->applied_index() + 5);
  EXPECT_EQ(Hash(b.get()).hash, ahead.hash);
}

// The on_restore hook is for snapshots from a leader, not for the one raft
// restores inside raft_start (state still RAFT_UNAVAILABLE). A leader's
// snapshot is installed in place: the DB, the applier and the tables stay
// the objects the server holds. Each restore also sizes raft's
// install-snapshot timeout for the snapshot (install_snapshot_timeout.h).
TEST(FsmTest, RestoreHookSkipsRaftsOwnRestoreAtStart) {
  std::mt19937_64 rng(7);
  const std::string root = revkv::testing::NewTempDir("raftfsm");
  std::unique_ptr<Fsm> a = OpenFsm(root + "/a"), b = OpenFsm(root + "/b");
  ASSERT_TRUE(a && b);
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(a.get(), rng, 20));
  absl::StatusOr<std::string> older = a->SnapshotBytes(a->applied_index());
  ASSERT_TRUE(older.ok()) << older.status();
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(a.get(), rng, 200));
  absl::StatusOr<std::string> newer = a->SnapshotBytes(a->applied_index());
  ASSERT_TRUE(newer.ok()) << newer.status();

  // The struct raft.h declares, as raft_init leaves it (RAFT_UNAVAILABLE)
  // as far as the Fsm looks: state and timeouts.
  struct raft r {};
  ASSERT_EQ(raft_state(&r), RAFT_UNAVAILABLE);
  r.election_timeout = 500;
  b->Attach(&r);
  int hooked = 0;
  b->set_on_restore([&] { ++hooked; });

  ASSERT_TRUE(b->Restore(*older).ok());  // as inside raft_start
  EXPECT_EQ(hooked, 0);
  EXPECT_EQ(b->restores(), 1u);
  EXPECT_EQ(r.install_snapshot_timeout, InstallSnapshotTimeoutMs(500, older->size()));

  r.state = RAFT_FOLLOWER;  // started: a snapshot from the leader
  // A serving member's server holds these: the restore is in place.
  revkv::DB* db = b->db();
  server::Applier* applier = b->applier();
  server::AlarmStore* alarms = b->alarms();
  server::MemberStore* members = b->members();
  ASSERT_TRUE(b->Restore(*newer).ok());
  EXPECT_EQ(hooked, 1);
  EXPECT_EQ(b->db(), db);
  EXPECT_EQ(b->applier(), applier);
  EXPECT_EQ(b->alarms(), alarms);
  EXPECT_EQ(b->members(), members);
  EXPECT_EQ(db->Rev(), a->db()->Rev());
  EXPECT_EQ(b->restores(), 2u);
  EXPECT_EQ(b->applied_index(), a->applied_index());
  EXPECT_GT(newer->size(), older->size());
  EXPECT_EQ(r.install_snapshot_timeout, InstallSnapshotTimeoutMs(500, newer->size()));
  b->Attach(nullptr);
}

// A data file that cannot be written (a backend commit fails) stops the
// member where it is, as etcd stops: the entry raft hands over next is not
// applied (RAFT_IOERR), on_failed is called once, the DB refuses reads
// rather than answer from data it could not keep, and every later entry is
// refused too. A restart reopens the DB at its last durable index, and
// replaying the log from there gives what a member without the fault has.
TEST(FsmTest, ADataFileThatCannotBeWrittenStopsTheMemberAndARestartReplays) {
  std::mt19937_64 rng(23);
  const std::string root = revkv::testing::NewTempDir("raftfsm");
  btree::FaultEnv env;
  revkv::Options faulty;
  faulty.env = &env;
  absl::StatusOr<std::unique_ptr<Fsm>> opened = Fsm::Open(root + "/a", faulty);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<Fsm> a = *std::move(opened);
  std::unique_ptr<Fsm> ref = OpenFsm(root + "/ref");
  ASSERT_TRUE(ref);
  struct raft ra {}, rr {};
  a->Attach(&ra);
  ref->Attach(&rr);
  std::vector<absl::Status> failures;
  a->set_on_failed([&](const absl::Status& s) { failures.push_back(s); });
  // Through the raft callback, as raft 0.15 calls it (it raises
  // last_applied after a successful apply).
  auto apply = [](Fsm* f, struct raft* r, const std::string& entry) {
    raft_buffer buf{const_cast<char*>(entry.data()), entry.size()};
    void* result = nullptr;
    const int rv = f->fsm()->apply(f->fsm(), &buf, &result);
    if (rv == 0) r->last_applied++;
    return rv;
  };
  std::vector<std::string> log;
  for (int i = 0; i < 200; ++i) {
    std::string bytes;
    ASSERT_TRUE(testing::RandomRequest(rng).SerializeToString(&bytes));
    log.push_back(EncodeEntry(bytes));
  }
  for (int i = 0; i < 100; ++i) ASSERT_EQ(apply(a.get(), &ra, log[size_t(i)]), 0);
  ASSERT_TRUE(a->db()->Sync().ok());  // durable through entry 100
  for (int i = 100; i < 120; ++i) ASSERT_EQ(apply(a.get(), &ra, log[size_t(i)]), 0);
  env.FailAll(btree::FaultOp::kSync);
  EXPECT_FALSE(a->db()->Sync().ok());  // the commit of 101..120 fails
  EXPECT_NE(apply(a.get(), &ra, log[120]), 0);
  EXPECT_NE(apply(a.get(), &ra, log[121]), 0);
  EXPECT_EQ(ra.last_applied, 120u);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_FALSE(a->failed().ok());
  EXPECT_FALSE(a->db()->Range("k", "l").ok());  // no answer from unkept data
  a->Attach(nullptr);
  a.reset();
  env.ClearFaults();

  // The restart: the DB holds what its last durable commit held.
  a = OpenFsm(root + "/a");
  ASSERT_TRUE(a);
  EXPECT_GE(a->applied_index(), 100u);
  EXPECT_LE(a->applied_index(), 120u);
  ra = {};
  ra.last_applied = a->applied_index();  // raft replays from the DB's index on
  a->Attach(&ra);
  for (size_t i = ra.last_applied; i < log.size(); ++i) ASSERT_EQ(apply(a.get(), &ra, log[i]), 0);
  for (const std::string& e : log) ASSERT_EQ(apply(ref.get(), &rr, e), 0);
  EXPECT_EQ(a->applied_index(), ref->applied_index());
  EXPECT_EQ(Hash(a.get()).hash, Hash(ref.get()).hash);
  EXPECT_EQ(Hash(a.get()).rev, Hash(ref.get()).rev);
  a->Attach(nullptr);
  ref->Attach(nullptr);
}

// Awaited entries (fsm.h): each is answered exactly once -- with its
// result when its own bytes are applied at its index, leader-changed when
// another entry takes the index or a restore covers it, with the
// proposer's status when it cancels, and at abandonment.
TEST(FsmTest, AwaitedEntriesAreAnsweredOnceByWhatTakesTheirIndex) {
  std::mt19937_64 rng(11);
  const std::string root = revkv::testing::NewTempDir("raftawait");
  std::unique_ptr<Fsm> f = OpenFsm(root + "/f"), other = OpenFsm(root + "/other");
  ASSERT_TRUE(f && other);
  ASSERT_NO_FATAL_FAILURE(ApplyRandom(other.get(), rng, 4));  // a snapshot at index 4
  absl::StatusOr<std::string> snap = other->SnapshotBytes(other->applied_index());
  ASSERT_TRUE(snap.ok()) << snap.status();

  struct raft r {};
  r.state = RAFT_LEADER;
  r.election_timeout = 500;
  f->Attach(&r);
  auto entry = [](const std::string& key) {
    revkvpb::InternalRequest req;
    req.mutable_put()->set_key(key);
    req.mutable_put()->set_value("v");
    req.mutable_header()->set_id(std::hash<std::string>{}(key));
    return EncodeEntry(req.SerializeAsString());
  };
  // Index i+1 awaits entries[i].
  const std::vector<std::string> entries = {entry("a"), entry("b"), entry("c"), entry("d"),
                                            entry("e")};
  struct Got {
    int times = 0;
    absl::StatusOr<server::ApplyResult> result = absl::UnknownError("none");
  };
  std::vector<Got> got(entries.size());
  int tokens[5];
  for (size_t i = 0; i < entries.size(); ++i) {
    f->Await(i + 1, entries[i], &tokens[i], [&got, i](absl::StatusOr<server::ApplyResult> res) {
      got[i].times++;
      got[i].result = std::move(res);
    });
  }
  EXPECT_EQ(f->awaited(), 5u);
  auto apply = [&](const std::string& bytes) {
    raft_buffer buf{const_cast<char*>(bytes.data()), bytes.size()};
    void* result = nullptr;
    ASSERT_EQ(f->fsm()->apply(f->fsm(), &buf, &result), 0);
    ++r.last_applied;  // as raft does after apply returns
  };
  // 1: its own entry -- its put's result.
  ASSERT_NO_FATAL_FAILURE(apply(entries[0]));
  EXPECT_EQ(got[0].times, 1);
  ASSERT_TRUE(got[0].result.ok()) << got[0].result.status();
  EXPECT_EQ(std::get<etcdserverpb::PutResponse>(*got[0].result).header().revision(), 2);
  // 2: another leader's entry took the index.
  ASSERT_NO_FATAL_FAILURE(apply(entry("someone else")));
  EXPECT_EQ(got[1].times, 1);
  EXPECT_TRUE(server::IsEtcdError(got[1].result.status(), "leader-changed"))
      << got[1].result.status();
  // 3: cancelled by its own token only, then applied: no second answer.
  int stranger = 0;
  f->Cancel(3, &stranger, server::ErrStopped());
  EXPECT_EQ(got[2].times, 0);
  f->Cancel(3, &tokens[2], server::ErrStopped());
  EXPECT_EQ(got[2].times, 1);
  EXPECT_TRUE(server::IsEtcdError(got[2].result.status(), "stopped"));
  ASSERT_NO_FATAL_FAILURE(apply(entries[2]));
  EXPECT_EQ(got[2].times, 1);
  // 4: a snapshot through index 4 replaces the DB: its fate is unknown.
  r.state = RAFT_FOLLOWER;
  ASSERT_TRUE(f->Restore(*snap).ok());
  EXPECT_EQ(got[3].times, 1);
  EXPECT_TRUE(server::IsEtcdError(got[3].result.status(), "leader-changed"));
  // 5: still awaited until abandoned.
  EXPECT_EQ(got[4].times, 0);
  EXPECT_EQ(f->awaited(), 1u);
  f->AbandonAwaited(server::ErrStopped());
  EXPECT_EQ(got[4].times, 1);
  EXPECT_TRUE(server::IsEtcdError(got[4].result.status(), "stopped"));
  EXPECT_EQ(f->awaited(), 0u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].times, 1) << i;
  f->Attach(nullptr);
}

// raft/uv.h needs entries a multiple of 8 bytes long (fsm.h): the framing
// round-trips every length and refuses what it did not frame.
TEST(FsmTest, EntryFramingIsAMultipleOfEightAndRoundTrips) {
  for (size_t n = 0; n < 40; ++n) {
    const std::string request(n, char('a' + n % 26));
    const std::string e = EncodeEntry(request);
    EXPECT_EQ(e.size() % 8, 0u) << n;
    EXPECT_GT(e.size(), n);
    absl::StatusOr<std::string_view> d = DecodeEntry(e);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, request);
  }
  const std::string e = EncodeEntry("hello");  // 5 + 3: "hello\0\0\3"
  EXPECT_EQ(DecodeEntry("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeEntry(e.substr(0, 7)).status().code(), absl::StatusCode::kDataLoss);
  std::string bad = e;
  bad.back() = 9;  // more padding than a frame has
  EXPECT_EQ(DecodeEntry(bad).status().code(), absl::StatusCode::kDataLoss);
  bad = e;
  bad.back() = 0;
  EXPECT_EQ(DecodeEntry(bad).status().code(), absl::StatusCode::kDataLoss);
  bad = e;
  bad[6] = 'x';  // padding that is not zero
  EXPECT_EQ(DecodeEntry(bad).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace revkv::cluster
