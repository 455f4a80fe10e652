// The bbolt reader on files from the test writer (bolt_writer.h): whatever
// the writer put in is read back (nested, inline and deep buckets, overflow
// values, page sizes, the freelist both ways), and each kind of damage is
// the error that names it and its page.
#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "interop/etcd/bolt_db.h"
#include "interop/etcd/bolt_error.h"
#include "interop/etcd/bolt_freelist.h"
#include "interop/etcd/bolt_meta.h"
#include "interop/etcd/bolt_writer.h"
#include "interop/etcd/sha256.h"
#include "tests/interop/bolt_writer.h"

namespace revkv::interop::etcd::testing {
namespace {

// Reads bucket `b` of `f` back as a TestBucket.
TestBucket ReadBack(const BoltFile& f, const BucketRef& b, absl::Status* status) {
  TestBucket out;
  absl::Status s = f.ForEach(b, [&](std::string_view k, std::string_view v, bool is_bucket) {
    if (!is_bucket) {
      out.values[std::string(k)] = std::string(v);
      return absl::OkStatus();
    }
    absl::StatusOr<BucketRef> child = BoltFile::DecodeBucket(v, 0, f.meta().pgid);
    if (!child.ok()) return child.status();
    absl::Status inner;
    TestBucket c = ReadBack(f, *child, &inner);
    c.sequence = uint64_t(v.size() >= 16 ? Load64(v.data() + 8) : 0);
    out.buckets[std::string(k)] = std::move(c);
    return inner;
  });
  if (status->ok()) *status = s;
  return out;
}

bool Same(const TestBucket& a, const TestBucket& b) {
  if (a.values != b.values || a.buckets.size() != b.buckets.size()) return false;
  for (const auto& [k, c] : a.buckets) {
    auto it = b.buckets.find(k);
    if (it == b.buckets.end() || it->second.sequence != c.sequence || !Same(c, it->second)) {
      return false;
    }
  }
  return true;
}

TestBucket RandomBucket(std::mt19937_64& rng, int depth, int n) {
  TestBucket b;
  b.sequence = rng() % 1000;
  for (int i = 0; i < n; ++i) {
    std::string k = "k" + std::to_string(rng() % 100000);
    const int kind = int(rng() % 100);
    size_t vlen = kind < 3 ? 5000 + rng() % 20000 : rng() % 200;  // a few overflow values
    std::string v(vlen, '\0');
    for (char& c : v) c = char(rng());
    b.values[k] = v;
  }
  if (depth > 0) {
    const int children = int(rng() % 4);
    for (int i = 0; i < children; ++i) {
      // Some tiny (inline), some large (their own pages), some empty.
      const int size = int(rng() % 3 == 0 ? rng() % 3 : rng() % 300);
      b.buckets["b" + std::to_string(rng() % 1000)] = RandomBucket(rng, depth - 1, size);
    }
  }
  return b;
}

std::unique_ptr<BoltFile> MustOpen(std::string bytes) {
  absl::StatusOr<std::unique_ptr<BoltFile>> f = BoltFile::FromBytes(std::move(bytes));
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(BoltReader, ReadsBackWhatTheWriterWrote) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    WriterOptions o;
    o.page_size = uint32_t(1024) << (round % 4);
    o.inline_small = round % 2 == 0;
    o.max_per_page = round % 3 == 0 ? 3 : 0;  // deep trees
    o.free_pages = round % 3 == 1 ? int64_t(rng() % 50) : -1;
    const TestBucket root = RandomBucket(rng, 2, 0);
    std::string bytes = WriteBoltFile(root, o);
    std::unique_ptr<BoltFile> f = MustOpen(bytes);
    ASSERT_NE(f, nullptr) << "seed " << seed << " round " << round;
    absl::Status s;
    TestBucket got = ReadBack(*f, f->Root(), &s);
    ASSERT_TRUE(s.ok()) << s << " seed " << seed << " round " << round;
    got.sequence = root.sequence;
    EXPECT_TRUE(Same(root, got)) << "seed " << seed << " round " << round;
    EXPECT_TRUE(f->Check().ok()) << f->Check() << " seed " << seed << " round " << round;
    EXPECT_EQ(f->page_size(), o.page_size);
  }
}

TEST(BoltReader, FindsNestedBucketsByName) {
  TestBucket root;
  root.buckets["key"].values["a"] = "1";
  root.buckets["meta"].buckets["inner"].values["x"] = "y";
  root.values["plain"] = "v";
  std::unique_ptr<BoltFile> f = MustOpen(WriteBoltFile(root, {}));
  ASSERT_NE(f, nullptr);
  absl::StatusOr<std::optional<BucketRef>> meta = f->Bucket(f->Root(), "meta");
  ASSERT_TRUE(meta.ok() && meta->has_value());
  absl::StatusOr<std::optional<BucketRef>> inner = f->Bucket(**meta, "inner");
  ASSERT_TRUE(inner.ok() && inner->has_value());
  BucketCursor c = f->Cursor(**inner);
  ASSERT_TRUE(c.First());
  EXPECT_EQ(c.key(), "x");
  EXPECT_EQ(c.value(), "y");
  EXPECT_FALSE(c.Next());
  EXPECT_TRUE(c.status().ok());
  absl::StatusOr<std::optional<BucketRef>> none = f->Bucket(f->Root(), "nosuch");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(IsBoltError(f->Bucket(f->Root(), "plain").status(), kBoltBadBucket));
}

TEST(BoltFreelist, BothEncodingsDecode) {
  for (size_t n : {size_t{0}, size_t{5}, size_t{0xFFFE}, size_t{0xFFFF}, size_t{70000}}) {
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back(10 + 2 * i);
    const std::string bytes = EncodeFreelist(0, 4096, ids);
    absl::StatusOr<Page> p = Page::At(bytes, 4096, 1 << 20, 0);
    ASSERT_TRUE(p.ok()) << p.status();
    absl::StatusOr<std::vector<uint64_t>> got = DecodeFreelist(*p, 1 << 20);
    ASSERT_TRUE(got.ok()) << got.status() << " n=" << n;
    EXPECT_EQ(*got, ids) << "n=" << n;
    if (n >= 0xFFFF) {
      EXPECT_EQ(Load16(bytes.data() + 10), 0xFFFF);
    }
  }
}

TEST(BoltFreelist, SyncedFreelistIsReadAndChecked) {
  TestBucket root;
  root.buckets["key"].values["a"] = "1";
  WriterOptions o;
  o.free_pages = 4;
  WriterLayout layout;
  std::string bytes = WriteBoltFile(root, o, &layout);
  std::unique_ptr<BoltFile> f = MustOpen(bytes);
  ASSERT_NE(f, nullptr);
  absl::StatusOr<std::optional<std::vector<uint64_t>>> free = f->FreePages();
  ASSERT_TRUE(free.ok() && free->has_value());
  EXPECT_EQ((*free)->size(), 4u);
  EXPECT_TRUE(f->Check().ok());
  // A freelist listing the root's page: free and in use at once.
  std::vector<uint64_t> ids = **free;
  ids.insert(ids.begin(), layout.root_page);
  const std::string fl = EncodeFreelist(layout.freelist_page, o.page_size, ids);
  bytes.replace(layout.freelist_page * o.page_size, fl.size(), fl);
  f = MustOpen(bytes);
  ASSERT_NE(f, nullptr);
  absl::Status s = f->Check();
  EXPECT_TRUE(IsBoltError(s, kBoltFreeInUse)) << s;
  EXPECT_EQ(BoltErrorPage(s), layout.root_page);
  // Unsorted ids.
  std::swap(ids[0], ids[1]);
  const std::string bad = EncodeFreelist(layout.freelist_page, o.page_size, ids);
  bytes.replace(layout.freelist_page * o.page_size, bad.size(), bad);
  f = MustOpen(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(IsBoltError(f->FreePages().status(), kBoltBadFreelist));
  EXPECT_EQ(BoltErrorPage(f->FreePages().status()), layout.freelist_page);
}

class Damaged : public ::testing::Test {
 protected:
  void SetUp() override {
    TestBucket& key = root_.buckets["key"];
    for (int i = 0; i < 400; ++i) key.values[absl::StrCat("key", 1000 + i)] = std::string(40, 'v');
    o_.max_per_page = 8;
    o_.inline_small = false;
    bytes_ = WriteBoltFile(root_, o_, &layout_);
    ASSERT_GE(layout_.branch_pages.size(), 2u);
  }
  // Walks every bucket; the first error.
  absl::Status Walk(const std::string& bytes) {
    absl::StatusOr<std::unique_ptr<BoltFile>> f = BoltFile::FromBytes(bytes);
    if (!f.ok()) return f.status();
    absl::Status s;
    ReadBack(**f, (*f)->Root(), &s);
    return s;
  }
  char* At(uint64_t page, size_t off) { return bytes_.data() + page * o_.page_size + off; }
  uint16_t Count(uint64_t page) { return Load16(At(page, 10)); }

  TestBucket root_;
  WriterOptions o_;
  WriterLayout layout_;
  std::string bytes_;
};

TEST_F(Damaged, UndamagedWalksClean) { EXPECT_TRUE(Walk(bytes_).ok()); }

TEST_F(Damaged, APageNamingAnotherIdIsNamed) {
  const uint64_t leaf = layout_.leaf_pages[3];
  *At(leaf, 0) ^= 1;
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltBadPageHeader)) << s;
  EXPECT_EQ(BoltErrorPage(s), leaf);
}

TEST_F(Damaged, AChildPointerPastTheFileIsOutOfRange) {
  const uint64_t branch = layout_.branch_pages[0];
  const uint64_t far = 1'000'000;
  std::memcpy(At(branch, kPageHeaderSize + 8), &far, 8);
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltPageOutOfRange)) << s;
  EXPECT_EQ(BoltErrorPage(s), far);
}

TEST_F(Damaged, AChildPointerBackUpTheTreeIsACycle) {
  // The last branch written is the root; its second child made its first.
  const uint64_t root_branch = layout_.branch_pages.back();
  ASSERT_GE(Count(root_branch), 2);
  std::memcpy(At(root_branch, kPageHeaderSize + kElementSize + 8), At(root_branch, kPageHeaderSize + 8), 8);
  // Keys stay ascending (the element's key is unchanged), so only the reuse is wrong.
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltPageReused) || IsBoltError(s, kBoltUnsorted)) << s;
}

TEST_F(Damaged, SwappedKeysAreUnsorted) {
  const uint64_t leaf = layout_.leaf_pages[2];
  // Swap the first two elements' key/value pointers (pos) by swapping the
  // whole element headers after adjusting pos: simpler to corrupt a key byte
  // so that it sorts before its predecessor.
  const uint32_t pos = Load32(At(leaf, kPageHeaderSize + kElementSize + 4));
  *At(leaf, kPageHeaderSize + kElementSize + pos) = '\x01';
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltUnsorted)) << s;
  EXPECT_EQ(BoltErrorPage(s), leaf);
}

TEST_F(Damaged, AnElementPointingOutsideItsPageIsNamed) {
  const uint64_t leaf = layout_.leaf_pages[1];
  const uint32_t huge = 0x7fffffff;
  std::memcpy(At(leaf, kPageHeaderSize + 12), &huge, 4);  // vsize of element 0
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltBadElement)) << s;
  EXPECT_EQ(BoltErrorPage(s), leaf);
}

TEST_F(Damaged, AHugeOverflowIsOutOfRange) {
  const uint64_t leaf = layout_.leaf_pages[0];
  const uint32_t huge = 0xffffffff;
  std::memcpy(At(leaf, 12), &huge, 4);
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltPageOutOfRange)) << s;
  EXPECT_EQ(BoltErrorPage(s), leaf);
}

TEST_F(Damaged, ACountPastThePageIsABadElement) {
  const uint64_t leaf = layout_.leaf_pages[0];
  const uint16_t count = 0xFFFF;
  std::memcpy(At(leaf, 10), &count, 2);
  absl::Status s = Walk(bytes_);
  EXPECT_TRUE(IsBoltError(s, kBoltBadElement) || IsBoltError(s, kBoltUnsorted)) << s;
  EXPECT_EQ(BoltErrorPage(s), leaf);
}

TEST_F(Damaged, EveryTruncationFailsOpenOrAWalk) {
  for (size_t n = 0; n < bytes_.size(); n += o_.page_size / 2) {
    absl::Status s = Walk(bytes_.substr(0, n));
    EXPECT_TRUE(IsBoltDamage(s)) << "truncated to " << n << ": " << s;
  }
}

TEST(BoltMeta, TheValidMetaWithTheHigherTxidWins) {
  TestBucket root;
  root.buckets["key"].values["a"] = "1";
  WriterOptions o;
  o.txid = 9;  // slot 1 holds txid 9, slot 0 txid 8
  std::string bytes = WriteBoltFile(root, o);
  std::unique_ptr<BoltFile> f = MustOpen(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->meta_slot(), 1);
  EXPECT_EQ(f->meta().txid, 9u);
  EXPECT_TRUE(f->note().empty());
  // Damage the newer one: the older is used, and the note says why.
  bytes[o.page_size + kPageHeaderSize + 20] ^= 0x40;
  f = MustOpen(bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->meta_slot(), 0);
  EXPECT_EQ(f->meta().txid, 8u);
  EXPECT_FALSE(f->note().empty());
  // Both damaged: no valid meta.
  bytes[kPageHeaderSize + 20] ^= 0x40;
  absl::StatusOr<std::unique_ptr<BoltFile>> bad = BoltFile::FromBytes(bytes);
  EXPECT_TRUE(IsBoltError(bad.status(), kBoltBadMeta)) << bad.status();
  // No magic anywhere: not a bbolt file.
  bad = BoltFile::FromBytes(std::string(8192, 'x'));
  EXPECT_TRUE(IsBoltError(bad.status(), kBoltNotBolt)) << bad.status();
}

TEST(BoltMeta, AHighWaterPastTheFileIsTruncation) {
  TestBucket root;
  root.buckets["key"].values["a"] = "1";
  const std::string bytes = WriteBoltFile(root, {});
  absl::StatusOr<std::unique_ptr<BoltFile>> f =
      BoltFile::FromBytes(bytes.substr(0, bytes.size() - 4096));
  EXPECT_TRUE(IsBoltError(f.status(), kBoltBadMeta)) << f.status();
}

TEST(Sha256, KnownAnswers) {
  auto hex = [](std::string_view s) {
    Sha256 h;
    h.Update(s);
    return Hex(h.Final());
  };
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // In pieces of every size across block boundaries: the same digest.
  const std::string million(1000000, 'a');
  Sha256 h;
  for (size_t off = 0, step = 1; off < million.size(); off += step, step = step % 131 + 1) {
    h.Update(std::string_view(million).substr(off, step));
  }
  EXPECT_EQ(Hex(h.Final()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace revkv::interop::etcd::testing

namespace revkv::interop::etcd::testing {
namespace {

// The production writer (export's): what it writes reads back, and Check
// finds every page reachable (its freelist is synced and empty).
TEST(BoltWriterTest, WritesWhatTheReaderReadsBack) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  const char* tmp = std::getenv("TEST_TMPDIR");
  for (int round = 0; round < 4; ++round) {
    const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/writer", round, "-", seed);
    absl::StatusOr<std::unique_ptr<BoltWriter>> w = BoltWriter::Create(path);
    ASSERT_TRUE(w.ok()) << w.status();
    TestBucket want;
    const int buckets = 1 + int(rng() % 4);
    for (int b = 0; b < buckets; ++b) {
      const std::string name = "bucket" + std::to_string(rng() % 100);
      if (want.buckets.count(name) != 0) continue;
      TestBucket& tb = want.buckets[name];
      const int n = round == 0 ? 0 : int(rng() % 3000);  // round 0: empty buckets
      for (int i = 0; i < n; ++i) {
        std::string v(rng() % 50 == 0 ? 5000 + rng() % 10000 : rng() % 100, 'a');
        for (char& c : v) c = char(rng());
        tb.values[absl::StrCat("key", rng() % 1000000)] = v;
      }
      ASSERT_TRUE((*w)->BeginBucket(name).ok());
      for (const auto& [k, v] : tb.values) ASSERT_TRUE((*w)->Add(k, v).ok());
      ASSERT_TRUE((*w)->EndBucket().ok());
    }
    // Out of order is refused.
    ASSERT_TRUE((*w)->BeginBucket("zz").ok());
    ASSERT_TRUE((*w)->Add("b", "1").ok());
    EXPECT_FALSE((*w)->Add("a", "1").ok());
    ASSERT_TRUE((*w)->EndBucket().ok());
    want.buckets["zz"].values["b"] = "1";
    ASSERT_TRUE((*w)->Finish(5).ok());
    absl::StatusOr<std::unique_ptr<BoltFile>> f = BoltFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status() << " seed " << seed;
    absl::Status s;
    TestBucket got = ReadBack(**f, (*f)->Root(), &s);
    ASSERT_TRUE(s.ok()) << s << " seed " << seed;
    for (auto& [name, b] : got.buckets) b.sequence = 0;
    EXPECT_TRUE(Same(want, got)) << "seed " << seed << " round " << round;
    EXPECT_TRUE((*f)->Check().ok()) << (*f)->Check() << " seed " << seed;
    absl::StatusOr<std::optional<std::vector<uint64_t>>> free = (*f)->FreePages();
    ASSERT_TRUE(free.ok() && free->has_value());
    EXPECT_TRUE((*free)->empty());
  }
}

}  // namespace
}  // namespace revkv::interop::etcd::testing
