// The key-ordered base (mvcc/key_order_base.h) under a crash and under a
// damaged page:
//
// 1. A child process writes (acknowledging each batch after a backend
//    commit) while another of its threads runs rebuild rounds back to back,
//    and is killed (SIGKILL) at a random moment, usually inside a round. The
//    store must reopen and hold exactly a prefix of the writes that covers
//    every acknowledged one, read the same through ranges served from the
//    base, point gets, a fresh round and a clean reopen.
// 2. A leaf page of the base bucket is damaged on disk: ranges must still
//    answer from the records, report the damage, and the next round must
//    rebuild the base (a repair), leaving the key bucket and HashKV alone.
// 3. A range with end "\0" reads the base like a bounded one.
//
// Seeds: REVKV_SEED replays one.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "btree/page.h"
#include "gtest/gtest.h"
#include "mvcc/key_order_base.h"
#include "mvcc/store.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

using Model = std::map<std::string, std::string>;

constexpr int kPreloadTxns = 30;
constexpr int kPreloadPerTxn = 1000;            // 30,000 keys
constexpr int kKeySpace = 36000;                // later puts also add keys
constexpr int kMaxBatch = 200;                  // transactions per acknowledged batch

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%06d", i);
  return buf;
}

std::string Unbounded() { return std::string(1, '\0'); }

bool SeedFromEnv(uint64_t* seed) {
  const char* e = getenv("REVKV_SEED");
  if (e == nullptr || *e == '\0') return false;
  *seed = std::strtoull(e, nullptr, 0);
  return true;
}

backend::BackendConfig Config(const std::string& path) {
  backend::BackendConfig cfg = backend::DefaultBackendConfig();
  cfg.path = path;
  cfg.no_sync = true;  // a SIGKILL loses nothing the kernel was handed
  return cfg;
}

StoreOptions BaseOptions() {
  StoreOptions o;
  o.key_order_base = true;
  o.base_min_changes = int64_t{1} << 50;  // the background thread never runs a round by itself
  return o;
}

// --- The writes: a deterministic stream of transactions from a seed ----------

struct Op {
  bool del = false;
  std::string key;
  std::string value;
};

// Each transaction changes something, so transaction t (from 0) is revision
// t + 2 and a store at revision R holds exactly the first R - 1 of them.
class TxnStream {
 public:
  explicit TxnStream(uint64_t seed) : rng_(seed * 0x9E3779B97F4A7C15ull + 1) {}

  std::vector<Op> Next() {
    std::vector<Op> ops;
    const int64_t t = n_++;
    if (t < kPreloadTxns) {
      for (int j = 0; j < kPreloadPerTxn; ++j) {
        Op op;
        op.key = Key(int(t) * kPreloadPerTxn + j);
        op.value = "pre-" + std::to_string(t) + "-" + std::string(20 + j % 30, 'a' + j % 26);
        ops.push_back(std::move(op));
      }
    } else {
      const int n = 1 + int(rng_() % 3);
      for (int j = 0; j < n; ++j) {
        Op op;
        op.key = Key(int(rng_() % kKeySpace));
        if (rng_() % 10 < 3 && model_.count(op.key) > 0) {
          op.del = true;
        } else {
          op.value = "t" + std::to_string(t) + "-" + std::to_string(j) + "-" +
                     std::string(rng_() % 60, 'x');
        }
        ops.push_back(std::move(op));
      }
      // Something must change: a transaction of deletes only deletes a live
      // key first (the ops above checked the model before the earlier ones).
      bool changes = false;
      Model m = model_;
      for (const Op& op : ops) {
        if (!op.del) {
          changes = true;
        } else if (m.erase(op.key) > 0) {
          changes = true;
        }
      }
      if (!changes) ops.back().del = false, ops.back().value = "forced-" + std::to_string(t);
    }
    for (const Op& op : ops) {
      if (op.del) {
        model_.erase(op.key);
      } else {
        model_[op.key] = op.value;
      }
    }
    return ops;
  }

  int64_t count() const { return n_; }
  const Model& model() const { return model_; }

 private:
  std::mt19937_64 rng_;
  int64_t n_ = 0;
  Model model_;
};

Model ModelAfter(uint64_t seed, int64_t txns) {
  TxnStream s(seed);
  for (int64_t i = 0; i < txns; ++i) s.Next();
  return s.model();
}

absl::Status Apply(Store& store, const std::vector<Op>& ops) {
  absl::StatusOr<std::unique_ptr<TxnWrite>> w = store.Write();
  if (!w.ok()) return w.status();
  for (const Op& op : ops) {
    if (op.del) {
      absl::StatusOr<int64_t> n = (*w)->DeleteRange(op.key, "");
      if (!n.ok()) return n.status();
    } else {
      absl::StatusOr<int64_t> r = (*w)->Put(op.key, op.value);
      if (!r.ok()) return r.status();
    }
  }
  return (*w)->End();
}

int64_t Served(Store& store) { return store.key_order_base().entries_served; }

std::string CompareRange(Store& store, const Model& model, const std::string& start,
                         const std::string& end);

// Every key, read twice: by an unbounded range (end "\0") and by the
// bounded range ["k", "l"), which covers the same keys. *served: the base
// entries the bounded range used.
std::string CompareWhole(Store& store, const Model& model, int64_t* served = nullptr) {
  std::string diff = CompareRange(store, model, "k", Unbounded());
  if (!diff.empty()) return "unbounded range: " + diff;
  const int64_t before = Served(store);
  diff = CompareRange(store, model, "k", "l");
  if (!diff.empty()) return "bounded range: " + diff;
  if (served != nullptr) *served = Served(store) - before;
  return "";
}

// "" when the range [start, end) of the store equals the model's, else what differs.
std::string CompareRange(Store& store, const Model& model, const std::string& start,
                         const std::string& end) {
  absl::StatusOr<RangeResult> r = store.Range(start, end);
  if (!r.ok()) return "range failed: " + r.status().ToString();
  auto it = model.lower_bound(start);
  auto stop = end == Unbounded() ? model.end() : model.lower_bound(end);
  size_t i = 0;
  for (; it != stop; ++it, ++i) {
    if (i >= r->kvs.size()) return "range misses " + it->first;
    if (r->kvs[i].key != it->first) {
      return "range has key " + r->kvs[i].key + " where the model has " + it->first;
    }
    if (r->kvs[i].value != it->second) {
      return "key " + it->first + " reads value '" + r->kvs[i].value + "', want '" + it->second +
             "'";
    }
  }
  if (i != r->kvs.size()) return "range has extra key " + r->kvs[i].key;
  if (r->count != int64_t(i)) return "range count " + std::to_string(r->count);
  return "";
}

// "" when a point get of every key of the key space agrees with the model.
std::string ComparePoints(Store& store, const Model& model) {
  for (int i = 0; i < kKeySpace; ++i) {
    const std::string k = Key(i);
    absl::StatusOr<RangeResult> r = store.Range(k, "");
    if (!r.ok()) return "get " + k + " failed: " + r.status().ToString();
    auto it = model.find(k);
    if (it == model.end()) {
      if (!r->kvs.empty()) return "get " + k + " finds a deleted or never-put key";
    } else if (r->kvs.size() != 1 || r->kvs[0].value != it->second) {
      return "get " + k + " does not read its acknowledged value";
    }
  }
  return "";
}

// --- Test 1: SIGKILL inside rebuild rounds -------------------------------------

// Messages on the pipe: n > 0: the first n transactions are committed
// (acknowledged); n < 0: -n rounds have finished (for the report only).
[[noreturn]] void RunChild(const std::string& path, uint64_t seed, int fd) {
  absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(Config(path));
  if (!b.ok()) _exit(2);
  absl::StatusOr<std::unique_ptr<Store>> st = Store::Open(b->get(), BaseOptions());
  if (!st.ok()) _exit(3);
  Store& store = **st;
  TxnStream stream(seed);
  auto send = [&](int64_t v) {
    if (write(fd, &v, sizeof v) != ssize_t(sizeof v)) _exit(5);
  };
  for (int t = 0; t < kPreloadTxns; ++t) {
    if (!Apply(store, stream.Next()).ok()) _exit(4);
  }
  if (!(*b)->ForceCommit().ok()) _exit(6);
  if (!store.RebuildKeyOrderBase().ok()) _exit(7);
  if (!(*b)->ForceCommit().ok()) _exit(6);
  send(stream.count());

  std::atomic<int64_t> rounds{1};
  std::thread rebuilder([&] {
    while (true) {
      absl::Status s = store.RebuildKeyOrderBase();
      if (!s.ok()) {
        std::fprintf(stderr, "child: round failed: %s\n", s.ToString().c_str());
        _exit(8);
      }
      send(-rounds.fetch_add(1) - 1);
    }
  });
  rebuilder.detach();

  std::mt19937_64 rng(seed ^ 0xC0FFEE);
  for (int batch = 1;; ++batch) {
    const int n = 1 + int(rng() % kMaxBatch);
    for (int j = 0; j < n; ++j) {
      if (!Apply(store, stream.Next()).ok()) _exit(4);
    }
    if (!(*b)->ForceCommit().ok()) _exit(6);
    send(stream.count());  // acknowledged
    // The child reads what it wrote too, through the base while rounds run.
    const int a = int(rng() % kKeySpace);
    const int len = 20 + int(rng() % 600);
    std::string diff = CompareRange(store, stream.model(), Key(a), Key(a + len));
    if (diff.empty() && batch % 16 == 0) {
      diff = CompareWhole(store, stream.model());
    }
    if (!diff.empty()) {
      std::fprintf(stderr, "child: %s\n", diff.c_str());
      _exit(9);
    }
  }
}

TEST(KeyOrderBaseCrashTest, KillInsideRebuildRoundLosesNothing) {
  const auto began = std::chrono::steady_clock::now();
  uint64_t replay = 0;
  const bool replaying = SeedFromEnv(&replay);
  int runs = 0, partial_left = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    if (replaying) seed = replay;
    std::cout << "[ seed     ] " << seed << " (replay: REVKV_SEED=" << seed << ")" << std::endl;
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay: REVKV_SEED=" +
                 std::to_string(seed) + ")");
    std::mt19937_64 rng(seed);
    StoreEnv env;
    env.set_options(BaseOptions());
    const std::string path = env.dir() + "/db";

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::cout.flush();
    std::cerr.flush();
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(path, seed, fds[1]);
    }
    close(fds[1]);
    int64_t acked = 0, rounds = 0, msg = 0;
    auto take = [&](int64_t m) {
      if (m > 0) acked = std::max(acked, m);
      if (m < 0) rounds = std::max(rounds, -m);
    };
    // The preload and the first round, then a few acknowledged batches.
    const int wait_acks = 2 + int(rng() % 6);
    for (int got = 0; got < wait_acks;) {
      ssize_t r = read(fds[0], &msg, sizeof msg);
      if (r != ssize_t(sizeof msg)) {
        int status = 0;
        waitpid(pid, &status, 0);
        FAIL() << "child died early: "
               << (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                     : "signal " + std::to_string(WTERMSIG(status)));
      }
      take(msg);
      if (msg > 0) ++got;
    }
    // Choosing the kill point, not synchronising.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 150000));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    while (read(fds[0], &msg, sizeof msg) == ssize_t(sizeof msg)) take(msg);
    close(fds[0]);
    ASSERT_GE(acked, kPreloadTxns);

    env.Open();
    ASSERT_NE(env.store(), nullptr);
    Store& store = *env.store();
    const int64_t applied = store.Rev() - 1;
    EXPECT_GE(applied, acked) << "an acknowledged write was lost";
    EXPECT_LE(applied, acked + kMaxBatch) << "more transactions than the child ever ran";
    const Model model = ModelAfter(seed, applied);

    const KeyOrderBaseInfo at_open = store.key_order_base();
    EXPECT_GE(at_open.gen, 1u) << "the first round was committed before the first ack";
    EXPECT_LE(at_open.rev, store.Rev());
    {
      // Is the generation a cut round was writing still in the file?
      auto view = env.backend()->NewConcurrentReadTx();
      ASSERT_TRUE(view.ok()) << view.status();
      bool any = false;
      ASSERT_TRUE((*view)
                      ->UnsafeScan(BaseBucketName(at_open.gen + 1), "", "",
                                   [&](std::string_view, std::string_view) {
                                     any = true;
                                     return false;
                                   })
                      .ok());
      if (any) ++partial_left;
    }

    // Ranges through the base (the one on disk, partly stale), then point gets.
    ASSERT_EQ(CompareWhole(store, model), "");
    ASSERT_EQ(CompareRange(store, model, Key(1000), Key(5000)), "");
    const KeyOrderBaseInfo after_range = store.key_order_base();
    EXPECT_GT(after_range.entries_served, 0) << "ranges never read the base";
    EXPECT_TRUE(after_range.damage.ok()) << after_range.damage;
    ASSERT_EQ(ComparePoints(store, model), "");
    absl::StatusOr<HashResult> h1 = store.HashByRev(0);
    ASSERT_TRUE(h1.ok()) << h1.status();

    // A round over what the crash left, then the same answers from the new base.
    ASSERT_TRUE(store.RebuildKeyOrderBase().ok());
    const KeyOrderBaseInfo rebuilt = store.key_order_base();
    EXPECT_EQ(rebuilt.rounds, 1);
    EXPECT_EQ(rebuilt.gen, at_open.gen);  // merged in place
    EXPECT_EQ(rebuilt.rev, store.Rev());
    EXPECT_EQ(rebuilt.repairs, 0);
    int64_t served = -1;
    ASSERT_EQ(CompareWhole(store, model, &served), "");
    EXPECT_EQ(served, int64_t(model.size())) << "a fresh base should serve every key of a range";
    ASSERT_EQ(ComparePoints(store, model), "");
    absl::StatusOr<HashResult> h2 = store.HashByRev(0);
    ASSERT_TRUE(h2.ok()) << h2.status();
    EXPECT_EQ(h1->hash, h2->hash);
    EXPECT_EQ(h1->rev, h2->rev);
    EXPECT_TRUE(store.VerifyKeyOrderBase().ok());

    // And after a clean close.
    env.Reopen();
    ASSERT_EQ(env.store()->Rev() - 1, applied);
    EXPECT_EQ(env.store()->key_order_base().gen, at_open.gen);
    ASSERT_EQ(CompareWhole(*env.store(), model, &served), "");
    EXPECT_EQ(served, int64_t(model.size()));

    std::cout << "[ info     ] seed " << seed << ": acknowledged " << acked << ", found "
              << applied << " transactions, " << model.size() << " live keys; rounds finished "
              << rounds << ", base on disk gen " << at_open.gen << " at rev " << at_open.rev
              << std::endl;
    ++runs;
    if (replaying || HasFatalFailure()) break;
    if (std::chrono::steady_clock::now() - began > std::chrono::seconds(8)) break;
  }
  std::cout << "[ info     ] " << runs << " runs; a cut round's generation still in the file "
            << "after reopen in " << partial_left << " of them" << std::endl;
}

// --- Test 2: a damaged page of the base ------------------------------------------

// Reads a btree file through page.h: the newest meta page and tree descent.
class FileWalker {
 public:
  bool Load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bytes_ = ss.str();
    if (bytes_.size() < 2 * btree::kMinPageSize) return false;
    bool found = false;
    for (int m = 0; m < 2; ++m) {
      // Meta pages are at least kMinPageSize apart: read page 0 to learn the size.
      btree::MetaBody meta;
      const size_t off = m == 0 ? 0 : (found ? meta_.page_size : btree::kDefaultPageSize);
      if (off + btree::kMetaBytes > bytes_.size()) continue;
      if (!btree::DecodeMeta(bytes_.data() + off, &meta).ok()) continue;
      if (!found || meta.txid > meta_.txid) {
        meta_ = meta;
        meta_off_ = off;
      }
      found = true;
    }
    page_size_ = found ? meta_.page_size : 0;
    return found;
  }

  btree::NodeView Node(btree::pgid_t id) const {
    const char* p = bytes_.data() + id * page_size_;
    return btree::NodeView(p, (1 + size_t{btree::Header(p)->overflow}) * page_size_);
  }
  bool Valid(btree::pgid_t id) const {
    return id >= 2 && id < meta_.high_water && (id + 1) * page_size_ <= bytes_.size();
  }

  // The root page of top-level bucket `name` (0 if none).
  btree::pgid_t BucketRoot(std::string_view name) const {
    btree::pgid_t id = meta_.root.root;
    for (int depth = 0; depth < 10 && Valid(id); ++depth) {
      btree::NodeView n = Node(id);
      if (n.is_leaf()) {
        for (uint32_t i = 0; i < n.count(); ++i) {
          uint32_t flags;
          std::string_view k, v;
          if (!n.LeafAt(i, &flags, &k, &v)) return 0;
          if (k != name) continue;
          if (!(flags & btree::kBucketFlag) || v.size() != sizeof(btree::BucketHeader)) return 0;
          btree::BucketHeader h;
          std::memcpy(&h, v.data(), sizeof h);
          return h.root;
        }
        return 0;
      }
      btree::pgid_t next = 0;
      for (uint32_t i = 0; i < n.count(); ++i) {
        std::string_view k;
        btree::pgid_t child;
        if (!n.BranchAt(i, &k, &child)) return 0;
        if (i == 0 || k <= name) next = child;
      }
      id = next;
    }
    return 0;
  }

  // Every page of the tree rooted at `root` (its spans' first pages).
  void Pages(btree::pgid_t root, std::set<btree::pgid_t>* out, int depth = 0) const {
    if (!Valid(root) || depth > 10 || !out->insert(root).second) return;
    btree::NodeView n = Node(root);
    if (n.is_leaf()) return;
    for (uint32_t i = 0; i < n.count(); ++i) {
      std::string_view k;
      btree::pgid_t child;
      if (n.BranchAt(i, &k, &child)) Pages(child, out, depth + 1);
    }
  }

  // The leaves of the tree rooted at `root`, in key order.
  void Leaves(btree::pgid_t root, std::vector<btree::pgid_t>* out, int depth = 0) const {
    if (!Valid(root) || depth > 10) return;
    btree::NodeView n = Node(root);
    if (n.is_leaf()) {
      out->push_back(root);
      return;
    }
    for (uint32_t i = 0; i < n.count(); ++i) {
      std::string_view k;
      btree::pgid_t child;
      if (n.BranchAt(i, &k, &child)) Leaves(child, out, depth + 1);
    }
  }

  std::vector<btree::pgid_t> CommitList() const {
    std::vector<btree::pgid_t> ids;
    for (const btree::CommitListEntry& e : btree::GetCommitList(bytes_.data() + meta_off_)) {
      ids.push_back(e.id);
    }
    return ids;
  }

  uint32_t page_size() const { return page_size_; }

 private:
  std::string bytes_;
  btree::MetaBody meta_{};
  size_t meta_off_ = 0;
  uint32_t page_size_ = 0;
};

struct Opened {
  std::unique_ptr<backend::Backend> backend;
  std::unique_ptr<Store> store;
};

void OpenStore(const std::string& path, Opened* o) {
  absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(Config(path));
  ASSERT_TRUE(b.ok()) << b.status();
  o->backend = std::move(*b);
  absl::StatusOr<std::unique_ptr<Store>> s = Store::Open(o->backend.get(), BaseOptions());
  ASSERT_TRUE(s.ok()) << s.status();
  o->store = std::move(*s);
  EXPECT_TRUE(o->store->open_warnings().empty());
}

void CloseStore(Opened* o) {
  ASSERT_TRUE(o->store->Close().ok());
  o->store.reset();
  absl::Status s = o->backend->Close();
  ASSERT_TRUE(s.ok()) << s;
  o->backend.reset();
}

TEST(KeyOrderBaseCrashTest, DamagedBasePageFallsBackAndIsRebuilt) {
  uint64_t seed = 1;
  SeedFromEnv(&seed);
  std::cout << "[ seed     ] " << seed << " (replay: REVKV_SEED=" << seed << ")" << std::endl;
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  char tmpl[] = "/tmp/revkv-kobase-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};
  const std::string path = dir + "/db";

  // 20,000 keys, some overwritten and some deleted, so that keys and
  // revisions are in different orders.
  Model model;
  Opened o;
  ASSERT_NO_FATAL_FAILURE(OpenStore(path, &o));
  for (int t = 0; t < 20; ++t) {
    std::vector<Op> ops;
    for (int j = 0; j < 1000; ++j) {
      const int i = int(rng() % 2) == 0 ? t * 1000 + j : int(rng() % 20000);
      Op op{false, Key(i), "v" + std::to_string(t) + "-" + std::to_string(j) + "-" +
                               std::string(rng() % 80, 'a' + i % 26)};
      ops.push_back(op);
    }
    for (int j = 0; j < 100; ++j) ops.push_back(Op{true, Key(int(rng() % 20000)), ""});
    for (const Op& op : ops) {
      if (op.del) {
        model.erase(op.key);
      } else {
        model[op.key] = op.value;
      }
    }
    ASSERT_TRUE(Apply(*o.store, ops).ok());
  }
  ASSERT_GT(model.size(), 5000u);
  ASSERT_TRUE(o.store->RebuildKeyOrderBase().ok());
  const uint64_t gen = o.store->key_order_base().gen;
  ASSERT_GE(gen, 1u);
  int64_t served = -1;
  ASSERT_EQ(CompareWhole(*o.store, model, &served), "");
  ASSERT_EQ(served, int64_t(model.size()));
  EXPECT_TRUE(o.store->key_order_base().damage.ok()) << o.store->key_order_base().damage;
  absl::StatusOr<HashResult> before = o.store->HashByRev(0);
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_NO_FATAL_FAILURE(CloseStore(&o));

  // Damage one leaf of the base, one that is no page of the key bucket's
  // tree and that the newest commit did not write (open reads those back).
  btree::pgid_t victim = 0;
  uint32_t page_size = 0;
  {
    FileWalker w;
    ASSERT_TRUE(w.Load(path));
    page_size = w.page_size();
    const btree::pgid_t base_root = w.BucketRoot(BaseBucketName(gen));
    const btree::pgid_t key_root = w.BucketRoot(kKeyBucket);
    ASSERT_NE(base_root, 0u) << "bucket " << BaseBucketName(gen) << " not found in the file";
    ASSERT_NE(key_root, 0u);
    std::set<btree::pgid_t> others;
    w.Pages(key_root, &others);
    for (const char* b : {kMetaBucket, kIndexBucket}) w.Pages(w.BucketRoot(b), &others);
    for (btree::pgid_t id : w.CommitList()) others.insert(id);
    std::vector<btree::pgid_t> leaves;
    w.Leaves(base_root, &leaves);
    ASSERT_GT(leaves.size(), 20u) << "the base should span many leaves";
    // A leaf in the middle third, chosen by the seed.
    std::vector<btree::pgid_t> candidates;
    for (size_t i = leaves.size() / 3; i < 2 * leaves.size() / 3; ++i) {
      if (others.count(leaves[i]) == 0) candidates.push_back(leaves[i]);
    }
    ASSERT_FALSE(candidates.empty());
    victim = candidates[rng() % candidates.size()];
    // It is a leaf of the base: its keys are user keys, its values base entries.
    btree::NodeView n = w.Node(victim);
    ASSERT_TRUE(n.is_leaf());
    ASSERT_GT(n.count(), 0u);
    uint32_t flags;
    std::string_view k, v;
    ASSERT_TRUE(n.LeafAt(0, &flags, &k, &v));
    EXPECT_EQ(flags & btree::kBucketFlag, 0u);
    EXPECT_TRUE(model.count(std::string(k)) > 0) << "first key of page " << victim << ": " << k;
    Revision rev;
    std::string_view record;
    EXPECT_TRUE(DecodeBaseEntry(v, &rev, &record).ok());
    std::cout << "[ info     ] damaging leaf page " << victim << " of " << BaseBucketName(gen)
              << " (" << leaves.size() << " leaves; first key " << k << ")" << std::endl;
  }
  {
    int fd = open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const off_t off = off_t(victim) * page_size + page_size / 2;
    char buf[16];
    ASSERT_EQ(pread(fd, buf, sizeof buf, off), ssize_t(sizeof buf));
    for (char& c : buf) c = char(c ^ 0x5A);
    ASSERT_EQ(pwrite(fd, buf, sizeof buf, off), ssize_t(sizeof buf));
    close(fd);
  }

  ASSERT_NO_FATAL_FAILURE(OpenStore(path, &o));
  Store* store = o.store.get();
  EXPECT_EQ(store->key_order_base().gen, gen);
  EXPECT_TRUE(store->key_order_base().damage.ok());
  // The range meets the damaged page: the records answer.
  ASSERT_EQ(CompareRange(*store, model, "k", "l"), "");
  KeyOrderBaseInfo info = store->key_order_base();
  EXPECT_FALSE(info.damage.ok()) << "the damaged page went unnoticed";
  EXPECT_TRUE(absl::IsDataLoss(info.damage)) << info.damage;
  EXPECT_EQ(info.repairs, 0);
  // Still right while the base is marked damaged, whole and in parts.
  ASSERT_EQ(CompareWhole(*store, model), "");
  ASSERT_EQ(CompareRange(*store, model, Key(9000), Key(11000)), "");
  ASSERT_EQ(ComparePoints(*store, model), "");
  absl::StatusOr<HashResult> damaged_hash = store->HashByRev(0);
  ASSERT_TRUE(damaged_hash.ok()) << damaged_hash.status();
  EXPECT_EQ(damaged_hash->hash, before->hash);

  // The next round rebuilds it from the records. (The background thread
  // also runs a round for a damaged base, whatever base_min_changes says:
  // it may be the one that repairs, and ours then is an ordinary round.)
  absl::Status round = store->RebuildKeyOrderBase();
  ASSERT_TRUE(round.ok()) << round;
  info = store->key_order_base();
  EXPECT_EQ(info.repairs, 1);
  EXPECT_GE(info.rounds, 1);
  EXPECT_LE(info.rounds, 2);
  EXPECT_EQ(info.gen, gen + 1);  // a new generation; a later round merges into it
  EXPECT_EQ(info.abandoned, std::vector<uint64_t>{gen});
  EXPECT_EQ(info.aborted, 0);
  const uint64_t repaired = info.gen;
  ASSERT_EQ(CompareWhole(*store, model, &served), "");
  EXPECT_EQ(served, int64_t(model.size())) << "the rebuilt base should serve every key";
  const int64_t before_part = Served(*store);
  ASSERT_EQ(CompareRange(*store, model, Key(9000), Key(11000)), "");
  EXPECT_EQ(Served(*store) - before_part,
            int64_t(std::distance(model.lower_bound(Key(9000)), model.lower_bound(Key(11000)))));
  absl::StatusOr<HashResult> after = store->HashByRev(0);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->hash, before->hash) << "HashKV changed across the damage and the repair";
  EXPECT_EQ(after->rev, before->rev);
  EXPECT_EQ(after->compact_rev, before->compact_rev);
  EXPECT_TRUE(store->VerifyKeyOrderBase().ok());

  // Closes and reopens cleanly; the repaired base serves the ranges.
  ASSERT_NO_FATAL_FAILURE(CloseStore(&o));
  ASSERT_NO_FATAL_FAILURE(OpenStore(path, &o));
  store = o.store.get();
  info = store->key_order_base();
  EXPECT_EQ(info.gen, repaired);
  EXPECT_TRUE(info.damage.ok());
  ASSERT_EQ(CompareWhole(*store, model, &served), "");
  EXPECT_EQ(served, int64_t(model.size()));
  EXPECT_TRUE(store->key_order_base().damage.ok());
  ASSERT_EQ(ComparePoints(*store, model), "");
  absl::StatusOr<HashResult> reopened = store->HashByRev(0);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->hash, before->hash);
  // A later round merges into the repaired base; the damaged generation
  // stays untouched in the file.
  round = store->RebuildKeyOrderBase();
  ASSERT_TRUE(round.ok()) << round;
  EXPECT_EQ(store->key_order_base().gen, repaired);
  EXPECT_EQ(store->key_order_base().repairs, 0);
  ASSERT_EQ(CompareWhole(*store, model), "");
  ASSERT_NO_FATAL_FAILURE(CloseStore(&o));
  ASSERT_NO_FATAL_FAILURE(OpenStore(path, &o));
  ASSERT_EQ(CompareWhole(*o.store, model, &served), "");
  EXPECT_EQ(served, int64_t(model.size()));
  EXPECT_EQ(o.store->key_order_base().gen, repaired);
  ASSERT_NO_FATAL_FAILURE(CloseStore(&o));
}

// A range with end "\0" (every key >= start: etcd's --from-key, and
// --prefix of "") reads from the base like a bounded one. (It did not when
// RangeAt, which empties such an end for the index walk, took the empty end
// for a point read.)
TEST(KeyOrderBaseCrashTest, UnboundedRangeReadsTheBase) {
  StoreEnv env;
  env.set_options(BaseOptions());
  ASSERT_NO_FATAL_FAILURE(env.Open());
  Model model;
  std::vector<Op> ops;
  for (int i = 0; i < 100; ++i) ops.push_back(Op{false, Key(i), "v" + std::to_string(i)});
  for (const Op& op : ops) model[op.key] = op.value;
  ASSERT_TRUE(Apply(*env.store(), ops).ok());
  ASSERT_TRUE(env.store()->RebuildKeyOrderBase().ok());
  int64_t before = Served(*env.store());
  ASSERT_EQ(CompareRange(*env.store(), model, "k", "l"), "");
  EXPECT_EQ(Served(*env.store()) - before, 100) << "a bounded range reads the base";
  before = Served(*env.store());
  ASSERT_EQ(CompareRange(*env.store(), model, "k", Unbounded()), "");
  EXPECT_EQ(Served(*env.store()) - before, 100) << "an unbounded range never reads the base";
}

}  // namespace
}  // namespace revkv::mvcc
