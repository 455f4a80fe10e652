// Damaged files: random byte flips, damaged pages, swapped pages and
// truncation. Opening, checking and scanning a damaged file must either fail
// with an error or return the right data; it must never crash or hang (run it
// under ASan). A damaged leaf is reported with its page id.
//
// Replay with REVKV_SEED=<seed>.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "btree/page.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::Contents;
using testutil::DiffContents;
using testutil::Dump;
using testutil::ScopedTempDir;

constexpr uint32_t kPageSize = 4096;

std::string Key(int i) { return absl::StrFormat("key%05d", i); }
std::string Value(int i, int round) {
  std::string v = absl::StrFormat("value %d of round %d ", i, round);
  v.resize(30 + i % 90, char('a' + i % 26));
  return v;
}

// Whether `message` names page `id` ("page 12", not "page 123").
bool NamesPage(const std::string& message, pgid_t id) {
  const std::string needle = absl::StrCat("page ", id);
  for (size_t pos = message.find(needle); pos != std::string::npos;
       pos = message.find(needle, pos + 1)) {
    size_t end = pos + needle.size();
    if (end == message.size() || !std::isdigit(static_cast<unsigned char>(message[end]))) {
      return true;
    }
  }
  return false;
}

// --- A damaged leaf, located by walking the file's tree --------------------------

// Reads a file through page.h: the newest valid meta page and tree descent.
class FileWalker {
 public:
  explicit FileWalker(std::string bytes) : bytes_(std::move(bytes)) {}

  bool Init() {
    bool found = false;
    for (int m = 0; m < 2; ++m) {
      MetaBody meta;
      if (!DecodeMeta(bytes_.data() + size_t(m) * kPageSize, &meta).ok()) continue;
      if (!found || meta.txid > meta_.txid) meta_ = meta;
      found = true;
    }
    return found;
  }

  NodeView Node(pgid_t id) const {
    const char* p = bytes_.data() + id * kPageSize;
    return NodeView(p, (1 + size_t{Header(p)->overflow}) * kPageSize);
  }

  // The leaf of the tree rooted at `root` that holds `key` (0 if none), and
  // the element's index.
  pgid_t FindLeaf(pgid_t root, std::string_view key, uint32_t* index) const {
    pgid_t id = root;
    for (int depth = 0; depth < 10; ++depth) {
      NodeView n = Node(id);
      if (n.is_leaf()) {
        for (uint32_t i = 0; i < n.count(); ++i) {
          std::string_view k;
          if (n.KeyAt(i, &k) && k == key) {
            *index = i;
            return id;
          }
        }
        return 0;
      }
      // Branch: the last child whose first key is <= key.
      pgid_t next = 0;
      for (uint32_t i = 0; i < n.count(); ++i) {
        std::string_view k;
        pgid_t child;
        if (!n.BranchAt(i, &k, &child)) return 0;
        if (i == 0 || k <= key) next = child;
      }
      id = next;
    }
    return 0;
  }

  // The root page of top-level bucket `name`.
  pgid_t BucketRoot(std::string_view name) const {
    uint32_t index;
    pgid_t leaf = FindLeaf(meta_.root.root, name, &index);
    if (leaf == 0) return 0;
    uint32_t flags;
    std::string_view k, v;
    if (!Node(leaf).LeafAt(index, &flags, &k, &v) || !(flags & kBucketFlag) ||
        v.size() != sizeof(BucketHeader)) {
      return 0;
    }
    BucketHeader h;
    std::memcpy(&h, v.data(), sizeof h);
    return h.root;
  }

  // File offset of the value of `key` in its leaf.
  size_t ValueOffset(pgid_t leaf, uint32_t index) const {
    uint32_t flags;
    std::string_view k, v;
    if (!Node(leaf).LeafAt(index, &flags, &k, &v)) return 0;
    return size_t(v.data() - bytes_.data());
  }

  std::string& bytes() { return bytes_; }
  const MetaBody& meta() const { return meta_; }

 private:
  std::string bytes_;
  MetaBody meta_{};
};

class CorruptionTest : public ::testing::Test {
 protected:
  // A few hundred keys in two buckets (one nested bucket, one large value),
  // over several commits. Records the contents of the last two commits: a
  // damaged newest meta page legitimately falls back to the one before.
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db =
        DB::Open(template_, Options{.page_size = kPageSize, .no_sync = true});
    ASSERT_OK(db);
    for (int round = 0; round < 4; ++round) {
      ASSERT_OK((*db)->Update([&](Tx& tx) -> absl::Status {
        absl::StatusOr<Bucket*> a = tx.CreateBucketIfNotExists("a");
        if (!a.ok()) return a.status();
        absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
        if (!b.ok()) return b.status();
        absl::StatusOr<Bucket*> n = (*b)->CreateBucketIfNotExists("nested");
        if (!n.ok()) return n.status();
        for (int i = round; i < 300; i += 2) {
          if (absl::Status s = (*a)->Put(Key(i), Value(i, round)); !s.ok()) return s;
        }
        for (int i = 0; i < 150; i += 1 + round) {
          if (absl::Status s = (*b)->Put(Key(i), Value(i, round)); !s.ok()) return s;
        }
        for (int i = 0; i < 40; ++i) {
          if (absl::Status s = (*n)->Put(Key(i), Value(i + 1, round)); !s.ok()) return s;
        }
        if (absl::Status s = (*a)->Delete(Key(round * 7)); !s.ok()) return s;
        return (*b)->Put("big", std::string(9000 + round, char('A' + round)));
      }));
      absl::StatusOr<Contents> c = Dump(**db);
      ASSERT_OK(c);
      states_[(*db)->LastTxid()] = *c;
    }
    ASSERT_TRUE(testutil::CheckClean(**db));
    db->reset();
    original_ = testutil::ReadFileBytes(template_);
    ASSERT_GT(original_.size(), 20 * kPageSize);
    FileWalker walker(original_);
    ASSERT_TRUE(walker.Init());
    high_water_ = walker.meta().high_water;
    ASSERT_LE(high_water_ * kPageSize, original_.size());
  }

  // Opens `path`, checks and scans it; fails the test if the results are
  // neither errors nor the right data.
  void ExpectErrorsOrCorrectData(const std::string& path, const std::string& what) {
    SCOPED_TRACE(what);
    absl::StatusOr<std::unique_ptr<DB>> db =
        DB::Open(path, Options{.create_if_missing = false, .read_only = true});
    if (!db.ok()) {
      EXPECT_FALSE(db.status().message().empty());
      ++open_errors_;
      return;
    }
    auto state = states_.find((*db)->LastTxid());
    // Acceptable: the newest commit, or the one before it.
    const bool newest_or_previous =
        state != states_.end() && (std::next(state) == states_.end() ||
                                   std::next(std::next(state)) == states_.end());
    if (!newest_or_previous) {
      ADD_FAILURE() << "opened at txid " << (*db)->LastTxid()
                    << ", which is none of the last two commits";
      return;
    }
    if (std::next(state) != states_.end()) {  // never a silent rollback
      EXPECT_NE((*db)->open_note(), "") << "opened the previous commit without a note";
    }
    std::vector<std::string> problems;
    absl::Status check = (*db)->Check(&problems);
    EXPECT_EQ(check.ok(), problems.empty()) << check;
    absl::StatusOr<Contents> c = Dump(**db);
    (void)(*db)->Stats();  // must not crash either
    absl::Status looked_up = LookUpEveryKey(**db, state->second);  // nor this
    if (check.ok()) {
      // A clean check vouches for every reachable page.
      ASSERT_OK(c);
      EXPECT_EQ(DiffContents(state->second, *c), "");
      EXPECT_TRUE(looked_up.ok()) << looked_up;
      ++clean_;
    } else {
      ++check_errors_;
      if (c.ok()) {
        // Every page the scan read had a valid checksum.
        EXPECT_EQ(DiffContents(state->second, *c), "")
            << "problems:" << testutil::JoinProblems(problems);
      }
    }
  }

  // GetSorted of every key `want` has in buckets "a" and "b", in order:
  // an error, or the values `want` holds.
  static absl::Status LookUpEveryKey(DB& db, const Contents& want) {
    return db.View([&](Tx& tx) -> absl::Status {
      for (const char* name : {"a", "b"}) {
        absl::StatusOr<Bucket*> b = tx.GetBucket(name);
        if (!b.ok()) return b.status();
        auto entries = want.find(name);
        if (entries == want.end()) return absl::OkStatus();
        std::vector<std::string_view> keys;
        for (const auto& [k, v] : entries->second) keys.push_back(k);
        std::vector<Bucket::Found> found;
        if (absl::Status s = (*b)->GetSorted(keys, &found); !s.ok()) return s;
        for (size_t i = 0; i < keys.size(); ++i) {
          const std::string& v = entries->second.at(std::string(keys[i]));
          if (v.rfind("<bucket", 0) == 0) continue;  // a nested bucket's marker
          if (!found[i].found || found[i].value != v) {
            return absl::DataLossError(absl::StrCat("GetSorted: wrong answer for ", std::string(keys[i])));
          }
        }
      }
      return absl::OkStatus();
    });
  }

  std::string WriteDamaged(const std::string& bytes) {
    const std::string path = dir_.File("damaged");
    std::remove(path.c_str());
    testutil::WriteFileBytes(path, bytes);
    return path;
  }

  ScopedTempDir dir_;
  const std::string template_ = dir_.File("template");
  std::string original_;
  uint64_t high_water_ = 0;  // of the newest commit
  std::map<txid_t, Contents> states_;
  int open_errors_ = 0, check_errors_ = 0, clean_ = 0;
};

TEST_F(CorruptionTest, RandomDamageYieldsErrorsOrCorrectDataNeverACrash) {
  const uint64_t seed = testutil::TestSeed(4242);
  std::mt19937_64 rng(seed);
  // Damage lands below the high-water mark: pages beyond it hold nothing.
  const size_t pages = high_water_;
  std::cout << "file of " << original_.size() / kPageSize << " pages, high water "
            << high_water_ << std::endl;
  constexpr int kIterations = 1000;
  for (int it = 0; it < kIterations && !HasFailure(); ++it) {
    std::string bytes = original_;
    std::string what;
    switch (rng() % 6) {
      case 0: {  // a few bit flips anywhere
        int n = 1 + int(rng() % 8);
        for (int i = 0; i < n; ++i) bytes[rng() % (pages * kPageSize)] ^= char(1 << (rng() % 8));
        what = absl::StrFormat("%d bit flips", n);
        break;
      }
      case 1: {  // random bytes within one page, headers included
        size_t page = rng() % pages;
        int n = 1 + int(rng() % 16);
        for (int i = 0; i < n; ++i) bytes[page * kPageSize + rng() % 64] = char(rng());
        for (int i = 0; i < n; ++i) bytes[page * kPageSize + rng() % kPageSize] = char(rng());
        what = absl::StrFormat("page %d scribbled", page);
        break;
      }
      case 2: {  // a page zeroed or filled with garbage
        size_t page = rng() % pages;
        bool zero = rng() % 2;
        for (size_t i = 0; i < kPageSize; ++i) {
          bytes[page * kPageSize + i] = zero ? '\0' : char(rng());
        }
        what = absl::StrFormat("page %d %s", page, zero ? "zeroed" : "garbage");
        break;
      }
      case 3: {  // a misdirected write: one page's bytes copied over another
        size_t from = rng() % pages, to = rng() % pages;
        std::memcpy(bytes.data() + to * kPageSize, original_.data() + from * kPageSize,
                    kPageSize);
        what = absl::StrFormat("page %d overwritten with page %d", to, from);
        break;
      }
      case 4: {  // truncated anywhere
        size_t len = rng() % ((rng() % 2) ? pages * kPageSize : bytes.size());
        bytes.resize(len);
        what = absl::StrFormat("truncated to %d bytes", len);
        break;
      }
      default: {  // a header field of a data page set to an extreme
        size_t page = 2 + rng() % (pages - 2);
        size_t field = 8 + (rng() % 6) * 4;  // id .. reserved
        uint32_t v = (rng() % 2) ? 0xffffffffu : uint32_t(rng() % 1000);
        std::memcpy(bytes.data() + page * kPageSize + field, &v, 4);
        what = absl::StrFormat("page %d header offset %d set to %d", page, field, v);
        break;
      }
    }
    const std::string path = WriteDamaged(bytes);
    const std::string label = absl::StrFormat("iteration %d: %s", it, what);
    ExpectErrorsOrCorrectData(path, label);
  }
  std::cout << "open errors " << open_errors_ << ", check errors " << check_errors_
            << ", clean " << clean_ << std::endl;
  EXPECT_GT(open_errors_ + check_errors_, 0);  // the damage was noticed at all
}

TEST_F(CorruptionTest, WritesToADamagedFileFailOrKeepItCheckable) {
  const uint64_t seed = testutil::TestSeed(777);
  std::mt19937_64 rng(seed);
  const size_t pages = high_water_;
  for (int it = 0; it < 60 && !HasFailure(); ++it) {
    std::string bytes = original_;
    size_t page = 2 + rng() % (pages - 2);
    for (int i = 0; i < 4; ++i) bytes[page * kPageSize + rng() % kPageSize] ^= char(1 + rng() % 255);
    SCOPED_TRACE(absl::StrFormat("iteration %d: page %d damaged", it, page));
    const std::string path = WriteDamaged(bytes);
    absl::StatusOr<std::unique_ptr<DB>> db =
        DB::Open(path, Options{.no_sync = true});
    if (!db.ok()) continue;
    (void)(*db)->Update([&](Tx& tx) -> absl::Status {
      for (const char* name : {"a", "b"}) {
        absl::StatusOr<Bucket*> b = tx.GetBucket(name);
        if (!b.ok()) return b.status();
        for (int i = 0; i < 300; i += 5) {
          if (absl::Status s = (*b)->Put(Key(i), "rewritten"); !s.ok()) return s;
          if (absl::Status s = (*b)->Delete(Key(i + 1)); !s.ok()) return s;
        }
      }
      return absl::OkStatus();
    });
    std::vector<std::string> problems;
    (void)(*db)->Check(&problems);
    (void)Dump(**db);
  }
}

class DamagedLeafTest : public CorruptionTest {
 protected:
  void SetUp() override {
    CorruptionTest::SetUp();
    if (HasFatalFailure()) return;
    FileWalker walker(original_);
    ASSERT_TRUE(walker.Init());
    pgid_t root = walker.BucketRoot("a");
    ASSERT_NE(root, 0u) << "bucket a not found by walking the file";
    uint32_t index;
    leaf_ = walker.FindLeaf(root, key_, &index);
    ASSERT_NE(leaf_, 0u) << key_ << " not found by walking the file";
    ASSERT_GE(leaf_, 2u);
    size_t offset = walker.ValueOffset(leaf_, index);
    ASSERT_GT(offset, leaf_ * kPageSize);
    walker.bytes()[offset] ^= 0x20;  // one byte of the value: structure intact
    path_ = WriteDamaged(walker.bytes());
  }

  const std::string key_ = Key(151);  // written in the last round
  pgid_t leaf_ = 0;
  std::string path_;
};

TEST_F(DamagedLeafTest, GetReportsDataLossNamingThePage) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{});
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * a, tx->GetBucket("a"));
  std::string_view v;
  absl::Status s = a->Get(key_, &v);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(NamesPage(std::string(s.message()), leaf_)) << s << " does not name page " << leaf_;
}

TEST_F(DamagedLeafTest, GetSortedReportsDataLossNamingThePage) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{});
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * a, tx->GetBucket("a"));
  const std::vector<std::string> owned = {Key(1), Key(151), Key(299)};
  const std::vector<std::string_view> keys(owned.begin(), owned.end());
  std::vector<Bucket::Found> found;
  absl::Status s = a->GetSorted(keys, &found);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(NamesPage(std::string(s.message()), leaf_)) << s << " does not name page " << leaf_;
}

TEST_F(DamagedLeafTest, ScanReportsDataLossNamingThePage) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{});
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * a, tx->GetBucket("a"));
  Cursor c = a->NewCursor();
  for (c.First(); c.Valid(); c.Next()) {
  }
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_TRUE(NamesPage(std::string(c.status().message()), leaf_)) << c.status();
  absl::Status r = a->Range("", "", 0, [](std::string_view, std::string_view) { return true; });
  EXPECT_EQ(r.code(), absl::StatusCode::kDataLoss) << r;
}

TEST_F(DamagedLeafTest, KeysOnUndamagedPagesStayReadable) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{});
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  std::string_view v;
  ASSERT_OK(b->Get(Key(0), &v));
  EXPECT_EQ(v, Value(0, 3));
}

TEST_F(DamagedLeafTest, CheckListsTheDamagedPage) {
  {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{});
    ASSERT_OK(db);
    std::vector<std::string> problems;
    absl::Status s = (*db)->Check(&problems);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    ASSERT_FALSE(problems.empty());
    bool named = false;
    for (const std::string& p : problems) named = named || NamesPage(p, leaf_);
    EXPECT_TRUE(named) << "no problem names page " << leaf_ << ":"
                       << testutil::JoinProblems(problems);
  }
}

TEST_F(DamagedLeafTest, TxCheckListsTheDamagedPage) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  ASSERT_OK(db);
  ASSERT_OK_AND_ASSIGN(auto tx, (*db)->Begin(false));
  std::vector<std::string> problems = tx->Check();
  ASSERT_FALSE(problems.empty());
  EXPECT_TRUE(NamesPage(problems.front(), leaf_) ||
              std::any_of(problems.begin(), problems.end(),
                          [&](const std::string& p) { return NamesPage(p, leaf_); }))
      << testutil::JoinProblems(problems);
}

}  // namespace
}  // namespace revkv::btree
