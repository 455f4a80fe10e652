// Conformance: a seeded random sequence of put / get / del / txn /
// compaction / endpoint hashkv (incl. --rev) operations runs through revkv
// and through a real etcd 3.4 (skipped when /usr/bin/etcd is absent); the
// normalised JSON (server-only header fields dropped, Endpoint blanked), the
// last stderr line and the exit code must be equal at every step.
//
// REVKV_CONFORMANCE_OPS (default 2,000, as the acceptance asks) sets the length, REVKV_CONFORMANCE_SEED
// the seed (default: random, printed).
#include <cstdlib>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

struct Op {
  std::vector<std::string> args;
  std::string stdin_data;
  std::string Describe() const {
    std::string s;
    for (const std::string& a : args) s += "'" + a + "' ";
    if (!stdin_data.empty()) s += "<<< " + stdin_data;
    return s;
  }
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Op Next(int64_t rev) {
    rev_ = rev;
    int k = Pick(100);
    if (k < 28) return Put();
    if (k < 53) return Get();
    if (k < 66) return Del();
    if (k < 84) return Txn();
    if (k < 91) return Compaction();
    return HashKV();
  }

 private:
  int Pick(int n) { return int(rng_() % uint64_t(n)); }
  bool Coin(int pct) { return Pick(100) < pct; }
  std::string Key() {
    static const char* kKeys[] = {"a", "a/b", "a/c", "b", "b/x", "c", "k1", "k2", "z"};
    return kKeys[Pick(9)];
  }
  std::string Value() {
    static const char* kValues[] = {"", "1", "2", "v1", "v2", "x", "zz"};
    return kValues[Pick(7)];
  }
  std::string Rev() { return std::to_string(Pick(int(rev_) + 3) - 1); }

  void RangeFlags(std::vector<std::string>* a, bool allow_sort) {
    int shape = Pick(5);
    if (shape == 1) a->push_back(Key());  // range end
    if (shape == 2) a->push_back("--prefix");
    if (shape == 3) a->push_back("--from-key");
    if (Coin(25)) a->push_back("--limit=" + std::to_string(Pick(4)));
    if (Coin(25)) a->push_back("--rev=" + Rev());
    if (Coin(20)) a->push_back("--keys-only");
    if (allow_sort && Coin(20)) {
      static const char* kTargets[] = {"CREATE", "KEY", "MODIFY", "VALUE", "VERSION"};
      a->push_back(std::string("--sort-by=") + kTargets[Pick(5)]);
    }
    if (allow_sort && Coin(15)) a->push_back(Coin(50) ? "--order=DESCEND" : "--order=ASCEND");
  }

  Op Put() {
    Op op{{"put", Key(), Value()}, ""};
    if (Coin(30)) op.args.push_back("--prev-kv");
    return op;
  }
  Op Get() {
    Op op{{"get", Coin(3) ? "" : Key()}, ""};
    RangeFlags(&op.args, true);
    return op;
  }
  Op Del() {
    Op op{{"del", Key()}, ""};
    int shape = Pick(4);
    if (shape == 1) op.args.push_back(Key());
    if (shape == 2) op.args.push_back("--prefix");
    if (Coin(30)) op.args.push_back("--prev-kv");
    return op;
  }
  std::string TxnOpLine() {
    int k = Pick(3);
    if (k == 0) {
      std::string v = Value();
      return "put " + Key() + " " + (v.empty() ? "\"\"" : v) + (Coin(30) ? " --prev-kv" : "");
    }
    if (k == 1) {
      std::vector<std::string> a = {"get", Key()};
      RangeFlags(&a, false);
      std::string s;
      for (const std::string& w : a) s += (s.empty() ? "" : " ") + w;
      return s;
    }
    std::string s = "del " + Key();
    int shape = Pick(3);
    if (shape == 1) s += " " + Key();
    if (shape == 2) s += " --prefix";
    if (Coin(30)) s += " --prev-kv";
    return s;
  }
  Op Txn() {
    std::string in;
    int compares = Pick(3);
    for (int i = 0; i < compares; ++i) {
      static const char* kOps[] = {"=", "!=", "<", ">"};
      int t = Pick(4);
      std::string target = t == 0 ? "value" : t == 1 ? "version" : t == 2 ? "create" : "mod";
      std::string operand = t == 0 ? Value() : std::to_string(Pick(int(rev_) + 2));
      in += target + "(\"" + Key() + "\") " + kOps[Pick(4)] + " \"" + operand + "\"\n";
    }
    if (Coin(3)) in += "bogus(\"a\") = \"1\"\n";
    in += "\n";
    for (int branch = 0; branch < 2; ++branch) {
      int n = Pick(4);
      for (int i = 0; i < n; ++i) in += TxnOpLine() + "\n";
      if (Coin(2)) in += "frob x\n";
      if (branch == 1 && Coin(3)) return Op{{"txn"}, in};  // missing the last empty line
      in += "\n";
    }
    return Op{{"txn"}, in};
  }
  Op Compaction() {
    Op op{{"compaction", std::to_string(Pick(int(rev_) + 2))}, ""};
    if (Coin(50)) op.args.push_back("--physical");
    return op;
  }
  Op HashKV() {
    Op op{{"endpoint", "hashkv"}, ""};
    if (Coin(60)) op.args.push_back("--rev=" + std::to_string(Pick(int(rev_) + 2)));
    return op;
  }

  std::mt19937_64 rng_;
  int64_t rev_ = 1;
};

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoll(v) : def;
}

TEST(Conformance, RandomOperationsMatchEtcd) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
  EtcdServer etcd;
  std::string error;
  ASSERT_TRUE(etcd.Start(&error)) << error;
  const std::string dir = NewTempDir("conformance");
  // The store exists before the first op, as etcd's does (a read refuses a
  // directory without one); a delete of nothing leaves it at revision 1.
  ASSERT_EQ(RunProcess({RevkvPath(), "--data-dir", dir, "del", "nosuch"}, "").exit_code, 0);
  const uint64_t seed = uint64_t(EnvInt("REVKV_CONFORMANCE_SEED", int64_t(std::random_device{}())));
  const int64_t ops = EnvInt("REVKV_CONFORMANCE_OPS", 2000);
  std::printf("conformance seed %llu, %lld ops\n", (unsigned long long)seed, (long long)ops);
  Generator gen(seed);
  int64_t rev = 1;
  int64_t mismatches = 0;
  int64_t succeeded = 0;  // ops etcd ran with exit code 0
  for (int64_t i = 0; i < ops && mismatches < 5; ++i) {
    Op op = gen.Next(rev);
    std::vector<std::string> args = {"-w", "json"};
    args.insert(args.end(), op.args.begin(), op.args.end());
    ProcessResult want = etcd.Etcdctl(args, op.stdin_data);
    std::vector<std::string> rargv = {RevkvPath(), "--data-dir", dir};
    rargv.insert(rargv.end(), args.begin(), args.end());
    ProcessResult got = RunProcess(rargv, op.stdin_data);
    const std::string w = NormaliseEtcdJson(want.out), g = NormaliseEtcdJson(got.out);
    bool same = want.exit_code == got.exit_code && w == g &&
                want.LastErrLine() == got.LastErrLine();
    EXPECT_TRUE(same) << "seed " << seed << " op " << i << ": " << op.Describe()
                      << "\netcd  rc=" << want.exit_code << " out=" << w
                      << " err=" << want.LastErrLine() << "\nrevkv rc=" << got.exit_code
                      << " out=" << g << " err=" << got.LastErrLine();
    if (!same) ++mismatches;
    if (want.exit_code == 0) ++succeeded;
    static const std::regex kRev("\"revision\":([0-9]+)");
    std::smatch m;
    if (std::regex_search(w, m, kRev)) rev = std::max<int64_t>(rev, std::stoll(m[1]));
  }
  // Finally the whole history must hash alike.
  ProcessResult want = etcd.Etcdctl({"-w", "json", "endpoint", "hashkv"});
  ProcessResult got = RunProcess({RevkvPath(), "--data-dir", dir, "-w", "json", "endpoint", "hashkv"}, "");
  EXPECT_EQ(NormaliseEtcdJson(want.out), NormaliseEtcdJson(got.out)) << "seed " << seed;
  std::printf("conformance: %lld ops (%lld succeeded, final revision %lld), %lld mismatches\n",
              (long long)ops, (long long)succeeded, (long long)rev, (long long)mismatches);
  EXPECT_GT(succeeded, ops / 2);
}

}  // namespace
}  // namespace revkv::testing
