// Moving in from a real etcd 3.4.23 (skipped when /usr/bin/etcd is absent):
// a seeded random history (puts, deletes, txns, leases, revokes,
// compactions) is written to etcd; its snapshot (`etcdctl snapshot save`)
// and its stopped member's data directory are imported into revkv; then
// `revkv endpoint hashkv --rev=R` and `revkv get "" --prefix --rev=R` must
// print what etcd printed, at the current revision, the compacted one and
// other retained ones; `revkv snapshot status` must print what `etcdctl
// snapshot status` prints. Also: the hash check as etcdctl's, a damaged
// snapshot refused without leaving a directory, a running member refused.
//
// REVKV_SEED fixes the seed (default random, printed), REVKV_INTEROP_OPS
// the history's length (default 250).
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/interop/etcd_history.h"

namespace revkv::interop::etcd::testing {
namespace {

using revkv::testing::EtcdServer;
using revkv::testing::NewTempDir;
using revkv::testing::ProcessResult;
using revkv::testing::RevkvPath;
using revkv::testing::RunProcess;

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoll(v) : def;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

ProcessResult Revkv(std::vector<std::string> args) {
  args.insert(args.begin(), RevkvPath());
  return RunProcess(args, "");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Every recorded revision of `h` answers in `dir` as etcd answered.
void ExpectSameAnswers(const EtcdHistory& h, const std::string& dir, const std::string& what,
                       uint64_t seed) {
  for (int64_t rev : h.revisions) {
    if (auto it = h.hashkv.find(rev); it != h.hashkv.end()) {
      EXPECT_EQ(RevkvHashKV(dir, rev), it->second)
          << what << ": hashkv at revision " << rev << ", seed " << seed;
    }
    EXPECT_EQ(RevkvGetAll(dir, rev), h.get.at(rev))
        << what << ": get at revision " << rev << ", seed " << seed;
  }
}

class EtcdImport : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    seed_ = uint64_t(EnvInt("REVKV_SEED", int64_t(std::random_device{}())));
    std::printf("etcd import seed %llu\n", (unsigned long long)seed_);
    std::string error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    const int ops = int(EnvInt("REVKV_INTEROP_OPS", 250));
    ASSERT_TRUE(WriteRandomHistory(etcd_, seed_, ops, 6, &history_, &error))
        << error << " seed " << seed_;
    std::printf("history: revision %lld, compacted %lld, %lld leases, %zu revisions checked\n",
                (long long)history_.revision, (long long)history_.compact_revision,
                (long long)history_.leases_granted, history_.revisions.size());
    // Enough happened for the comparison to mean something.
    ASSERT_GT(history_.revision, ops / 3) << "seed " << seed_;
    work_ = NewTempDir("interop");
    snap_ = work_ + "/etcd.snap";
    ProcessResult saved = etcd_.Etcdctl({"snapshot", "save", snap_});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
  }

  EtcdServer etcd_;
  uint64_t seed_ = 0;
  EtcdHistory history_;
  std::string work_, snap_;
};

TEST_F(EtcdImport, SnapshotAndDataDirAnswerAsEtcdDid) {
  // A running member's file is refused, and nothing is created.
  ProcessResult running = Revkv({"migrate", "--from-etcd-data-dir", etcd_.data_dir(),
                                 "--data-dir", work_ + "/early"});
  EXPECT_NE(running.exit_code, 0);
  EXPECT_FALSE(Exists(work_ + "/early"));
  ASSERT_TRUE(etcd_.Stop());

  // snapshot status: etcdctl's figures, for the snapshot and the bare db.
  for (const std::string& file : {snap_, etcd_.data_dir() + "/member/snap/db"}) {
    ProcessResult want = RunProcess({"/usr/bin/etcdctl", "-w", "json", "snapshot", "status", file},
                                    "", {"ETCDCTL_API=3"});
    ProcessResult got = Revkv({"-w", "json", "snapshot", "status", file});
    ASSERT_EQ(want.exit_code, 0) << want.err;
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.out, want.out) << file << ", seed " << seed_;
  }

  const std::string restored = work_ + "/restored";
  ProcessResult r = Revkv({"snapshot", "restore", snap_, "--data-dir", restored});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSameAnswers(history_, restored, "snapshot restore", seed_);

  const std::string migrated = work_ + "/migrated";
  ProcessResult m = Revkv({"migrate", "--from-etcd-data-dir", etcd_.data_dir(), "--data-dir",
                           migrated});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  ExpectSameAnswers(history_, migrated, "migrate", seed_);

  // The imported store takes writes and is structurally sound.
  ProcessResult put = Revkv({"--data-dir", migrated, "-w", "json", "put", "after", "import"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_NE(put.out.find("\"revision\":" + std::to_string(history_.revision + 1)),
            std::string::npos)
      << put.out;
  ProcessResult check = Revkv({"--data-dir", migrated, "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(EtcdImport, TheHashIsCheckedAsEtcdctlChecksIt) {
  ASSERT_TRUE(etcd_.Stop());
  const std::string db = etcd_.data_dir() + "/member/snap/db";
  // A bare db has no hash: refused unless --skip-hash-check, as etcdctl does.
  ProcessResult bare = Revkv({"snapshot", "restore", db, "--data-dir", work_ + "/bare"});
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_FALSE(Exists(work_ + "/bare"));
  ProcessResult want = RunProcess({"/usr/bin/etcdctl", "snapshot", "restore", db, "--data-dir",
                                   work_ + "/bare-etcd"},
                                  "", {"ETCDCTL_API=3"});
  EXPECT_NE(want.exit_code, 0) << "etcdctl accepted a bare db without --skip-hash-check";
  ProcessResult skip =
      Revkv({"snapshot", "restore", db, "--data-dir", work_ + "/bare", "--skip-hash-check"});
  ASSERT_EQ(skip.exit_code, 0) << skip.err;
  ExpectSameAnswers(history_, work_ + "/bare", "restore --skip-hash-check", seed_);

  // One flipped byte anywhere in the snapshot: refused, nothing left behind.
  const std::string bytes = ReadFile(snap_);
  std::mt19937_64 rng(seed_);
  for (int i = 0; i < 5; ++i) {
    std::string damaged = bytes;
    damaged[rng() % damaged.size()] ^= char(1 + rng() % 255);
    const std::string file = work_ + "/damaged" + std::to_string(i);
    WriteFile(file, damaged);
    const std::string target = work_ + "/from-damaged" + std::to_string(i);
    ProcessResult d = Revkv({"snapshot", "restore", file, "--data-dir", target});
    EXPECT_NE(d.exit_code, 0) << "damaged snapshot " << i << " restored, seed " << seed_;
    EXPECT_FALSE(Exists(target));
  }
  // A truncated snapshot loses its hash: refused too.
  WriteFile(work_ + "/truncated", bytes.substr(0, bytes.size() / 2));
  ProcessResult t = Revkv({"snapshot", "restore", work_ + "/truncated", "--data-dir", work_ + "/t"});
  EXPECT_NE(t.exit_code, 0);
  EXPECT_FALSE(Exists(work_ + "/t"));
}

}  // namespace
}  // namespace revkv::interop::etcd::testing
