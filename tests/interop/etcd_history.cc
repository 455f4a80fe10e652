#include "tests/interop/etcd_history.h"

#include <algorithm>
#include <random>
#include <regex>

#include "tests/cmd/process.h"

namespace revkv::interop::etcd::testing {
namespace {

using revkv::testing::NormaliseEtcdJson;
using revkv::testing::ProcessResult;
using revkv::testing::RevkvPath;
using revkv::testing::RunProcess;

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  int Pick(int n) { return int(rng_() % uint64_t(n)); }
  std::string Key() { return "k/" + std::to_string(Pick(25)) + (Pick(4) == 0 ? "/x" : ""); }
  std::string Value() {
    std::string v = "v" + std::to_string(rng_() % 100000);
    if (Pick(20) == 0) v += std::string(size_t(Pick(6000)), 'z');  // values of several pages
    return v;
  }

 private:
  std::mt19937_64 rng_;
};

int64_t RevisionIn(const std::string& json) {
  static const std::regex kRev("\"revision\":([0-9]+)");
  std::smatch m;
  return std::regex_search(json, m, kRev) ? std::stoll(m[1]) : -1;
}

}  // namespace

bool WriteRandomHistory(revkv::testing::EtcdServer& etcd, uint64_t seed, int ops, int sample,
                        EtcdHistory* out, std::string* error) {
  Generator g(seed);
  std::vector<std::string> leases;
  for (int i = 0; i < ops; ++i) {
    const int k = g.Pick(100);
    std::vector<std::string> args = {"-w", "json"};
    std::string in;
    if (k < 40) {
      args.insert(args.end(), {"put", g.Key(), g.Value()});
      if (!leases.empty() && g.Pick(3) == 0) {
        args.push_back("--lease=" + leases[size_t(g.Pick(int(leases.size())))]);
      }
    } else if (k < 55) {
      args.insert(args.end(), {"del", g.Key()});
      if (g.Pick(3) == 0) args.push_back("--prefix");
    } else if (k < 75) {
      args.push_back("txn");
      in = "version(\"" + g.Key() + "\") > \"" + std::to_string(g.Pick(3)) + "\"\n\n";
      in += "put " + g.Key() + " " + g.Value() + "\nput " + g.Key() + "z " + g.Value() + "\n\n";
      in += "del " + g.Key() + "\n\n";
    } else if (k < 83) {
      ProcessResult r = etcd.Etcdctl({"lease", "grant", "600"});
      static const std::regex kId("lease ([0-9a-f]+) granted");
      std::smatch m;
      if (r.exit_code == 0 && std::regex_search(r.out, m, kId)) {
        leases.push_back(m[1]);
        ++out->leases_granted;
      } else {
        ++out->ops_failed;
      }
      continue;
    } else if (k < 87 && !leases.empty()) {
      const size_t at = size_t(g.Pick(int(leases.size())));
      args = {"lease", "revoke", leases[at]};  // deletes the keys it holds
      leases.erase(leases.begin() + long(at));
    } else if (k < 92) {
      // Compact in the older half of what is retained, so that history
      // stays to be read at many revisions.
      const int64_t lo = out->compact_revision + 1;
      if (lo > out->revision) continue;
      const int64_t at = lo + g.Pick(int((out->revision - lo) / 2 + 1));
      ProcessResult r = etcd.Etcdctl({"compaction", std::to_string(at)});
      if (r.exit_code == 0) {
        out->compact_revision = at;
      } else {
        ++out->ops_failed;
      }
      continue;
    } else {
      args.insert(args.end(), {"put", g.Key(), g.Value()});
    }
    ProcessResult r = etcd.Etcdctl(args, in);
    if (r.exit_code != 0) {
      ++out->ops_failed;
      continue;
    }
    out->revision = std::max(out->revision, RevisionIn(r.out));
  }
  // etcd's own word on the final revision (a revoke prints no JSON).
  ProcessResult st = etcd.Etcdctl({"-w", "json", "endpoint", "status"});
  if (st.exit_code != 0) {
    *error = "endpoint status: " + st.err;
    return false;
  }
  out->revision = RevisionIn(st.out);
  std::vector<int64_t> revs = {out->revision};
  if (out->compact_revision > 0) revs.push_back(out->compact_revision);
  const int64_t lo = std::max<int64_t>(out->compact_revision, 1);
  for (int i = 0; i < sample && out->revision > lo; ++i) {
    revs.push_back(lo + g.Pick(int(out->revision - lo + 1)));
  }
  std::sort(revs.begin(), revs.end());
  revs.erase(std::unique(revs.begin(), revs.end()), revs.end());
  for (int64_t rev : revs) {
    const std::string r = "--rev=" + std::to_string(rev);
    ProcessResult get = etcd.Etcdctl({"-w", "json", "get", "", "--prefix", r});
    if (get.exit_code != 0) {
      *error = "etcd refused a get at revision " + std::to_string(rev) + ": " + get.err;
      return false;
    }
    out->revisions.push_back(rev);
    out->get[rev] = NormaliseEtcdJson(get.out);
    // etcd hashes only above the compacted revision (a get at it works).
    if (rev <= out->compact_revision) continue;
    ProcessResult h = etcd.Etcdctl({"-w", "json", "endpoint", "hashkv", r});
    if (h.exit_code != 0) {
      *error = "etcd refused hashkv at revision " + std::to_string(rev) + ": " + h.err;
      return false;
    }
    out->hashkv[rev] = NormaliseEtcdJson(h.out);
  }
  return true;
}

std::string RevkvHashKV(const std::string& dir, int64_t rev) {
  ProcessResult r = RunProcess({RevkvPath(), "--data-dir", dir, "-w", "json", "endpoint",
                                "hashkv", "--rev=" + std::to_string(rev)},
                               "");
  return r.exit_code == 0 ? NormaliseEtcdJson(r.out) : "error: " + r.err;
}

std::string RevkvGetAll(const std::string& dir, int64_t rev) {
  ProcessResult r = RunProcess({RevkvPath(), "--data-dir", dir, "-w", "json", "get", "",
                                "--prefix", "--rev=" + std::to_string(rev)},
                               "");
  return r.exit_code == 0 ? NormaliseEtcdJson(r.out) : "error: " + r.err;
}

}  // namespace revkv::interop::etcd::testing
