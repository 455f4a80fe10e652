// The way back (skipped when /usr/bin/etcd is absent): a revkv store with a
// seeded history (puts, overwrites, deletes, large values, a compaction)
// is saved with `revkv snapshot save --format etcd`; `etcdctl snapshot
// status` must read it as revkv does, `etcdctl snapshot restore` must take
// it (its sha256 checked), and a real etcd 3.4.23 started on the restored
// directory must answer `endpoint hashkv` and `get` at the current and
// retained revisions as revkv does. Importing the file back into revkv
// gives the same answers too.
//
// REVKV_SEED fixes the seed (default random, printed).
#include <cstdlib>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/interop/etcd_history.h"

namespace revkv::interop::etcd::testing {
namespace {

using revkv::testing::EtcdServer;
using revkv::testing::NewTempDir;
using revkv::testing::NormaliseEtcdJson;
using revkv::testing::ProcessResult;
using revkv::testing::RevkvPath;
using revkv::testing::RunProcess;

ProcessResult Revkv(const std::string& dir, std::vector<std::string> args,
                    const std::string& in = "") {
  args.insert(args.begin(), {RevkvPath(), "--data-dir", dir});
  return RunProcess(args, in);
}

TEST(EtcdExport, EtcdRestoresAndServesARevkvSnapshot) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
  const char* env = std::getenv("REVKV_SEED");
  const uint64_t seed = env != nullptr && *env ? std::strtoull(env, nullptr, 0) : std::random_device{}();
  std::printf("etcd export seed %llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  const std::string work = NewTempDir("export");
  const std::string dir = work + "/revkv";
  int64_t rev = 1;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k/" + std::to_string(rng() % 40);
    ProcessResult r;
    if (rng() % 5 == 0) {
      r = Revkv(dir, {"del", key, "--prefix"});
    } else {
      std::string v = "v" + std::to_string(rng());
      if (rng() % 15 == 0) v += std::string(rng() % 9000, 'x');  // overflow pages
      r = Revkv(dir, {"put", key, v});
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ProcessResult st = Revkv(dir, {"-w", "json", "endpoint", "status"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  rev = std::stoll(st.out.substr(st.out.find("\"revision\":") + 11));
  const int64_t compact = rev / 3;
  ASSERT_EQ(Revkv(dir, {"compaction", std::to_string(compact)}).exit_code, 0);
  std::vector<int64_t> revs = {compact + 1, (compact + rev) / 2, rev};

  const std::string snap = work + "/etcd.snap";
  ProcessResult saved = Revkv(dir, {"snapshot", "save", "--format", "etcd", snap});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;

  // etcdctl reads it as revkv does.
  ProcessResult want = RunProcess({"/usr/bin/etcdctl", "-w", "json", "snapshot", "status", snap},
                                  "", {"ETCDCTL_API=3"});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  EXPECT_EQ(RunProcess({RevkvPath(), "-w", "json", "snapshot", "status", snap}, "").out, want.out);

  // etcdctl restores it (hash checked), and etcd serves it.
  const int peer = EtcdServer::FreePort();
  const std::string restored = work + "/etcd-data";
  ProcessResult r = RunProcess({"/usr/bin/etcdctl", "snapshot", "restore", snap, "--data-dir",
                                restored, "--name", "ref", "--initial-cluster",
                                "ref=" + EtcdServer::PeerUrl(peer),
                                "--initial-advertise-peer-urls", EtcdServer::PeerUrl(peer)},
                               "", {"ETCDCTL_API=3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EtcdServer etcd;
  std::string error;
  ASSERT_TRUE(etcd.StartOn(restored, peer, &error)) << error;
  // And the file imported back into revkv answers the same.
  const std::string back = work + "/back";
  ASSERT_EQ(RunProcess({RevkvPath(), "snapshot", "restore", snap, "--data-dir", back}, "").exit_code,
            0);
  for (int64_t at : revs) {
    const std::string flag = "--rev=" + std::to_string(at);
    const std::string h = NormaliseEtcdJson(etcd.Etcdctl({"-w", "json", "endpoint", "hashkv", flag}).out);
    const std::string g = NormaliseEtcdJson(etcd.Etcdctl({"-w", "json", "get", "", "--prefix", flag}).out);
    EXPECT_EQ(RevkvHashKV(dir, at), h) << "revision " << at << ", seed " << seed;
    EXPECT_EQ(RevkvGetAll(dir, at), g) << "revision " << at << ", seed " << seed;
    EXPECT_EQ(RevkvHashKV(back, at), h) << "imported back, revision " << at;
  }
  // Compacted below: etcd refuses the old revision as revkv does.
  EXPECT_NE(etcd.Etcdctl({"get", "k", "--rev=" + std::to_string(compact - 1)}).exit_code, 0);
  EXPECT_TRUE(etcd.Stop());
}

}  // namespace
}  // namespace revkv::interop::etcd::testing
