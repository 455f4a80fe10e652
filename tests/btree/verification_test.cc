// Nothing read from the file is used unverified: every span is checked
// against its checksum before a transaction first uses it, once per
// allocation of its pages (btree/verified_pages.h), and damage fails the
// operation that meets it with DataLoss naming the file and page. These tests
// damage files on disk, or behind an open DB's back, and check each path.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "btree/verified_pages.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::ScopedTempDir;

constexpr uint64_t kPage = 4096;

std::string Key(int i) { return absl::StrFormat("key%05d", i); }

absl::Status Put(DB& db, std::string_view bucket, std::string_view key, std::string_view value) {
  return db.Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists(bucket);
    if (!b.ok()) return b.status();
    return (*b)->Put(key, value);
  });
}

absl::Status Get(DB& db, std::string_view bucket, std::string_view key, std::string* out) {
  return db.View([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket(bucket);
    if (!b.ok()) return b.status();
    std::string_view v;
    if (absl::Status s = (*b)->Get(key, &v); !s.ok()) return s;
    *out = std::string(v);
    return absl::OkStatus();
  });
}

// The offset of the only occurrence of `needle` in the file, or npos.
size_t FindOnce(const std::string& path, std::string_view needle) {
  const std::string bytes = testutil::ReadFileBytes(path);
  size_t at = bytes.find(needle);
  if (at == std::string::npos || bytes.find(needle, at + 1) != std::string::npos) {
    return std::string::npos;
  }
  return at;
}

// Flips one byte of the file through a descriptor of its own, as damage done
// behind an open DB's back (its shared mapping sees it at once).
void FlipByte(const std::string& path, size_t offset) {
  int fd = open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c;
  ASSERT_EQ(pread(fd, &c, 1, off_t(offset)), 1);
  c ^= 0x01;
  ASSERT_EQ(pwrite(fd, &c, 1, off_t(offset)), 1);
  close(fd);
}

uint64_t SpansVerified(DB& db) {
  absl::StatusOr<DBStats> st = db.Stats();
  EXPECT_TRUE(st.ok()) << st.status();
  return st.ok() ? st->counters.spans_verified : 0;
}

// A store with bucket "a" (keys 0..399) and bucket "b", where the value of
// key 123 in "a" is unique in the file, and a last commit that touches only
// "b": damage to "a"'s pages is found by reads, not by open.
class DamagedValueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_));
      ASSERT_OK(db->Update([&](Tx& tx) -> absl::Status {
        absl::StatusOr<Bucket*> a = tx.CreateBucket("a");
        if (!a.ok()) return a.status();
        for (int i = 0; i < 400; ++i) {
          std::string v = i == 123 ? needle_ : absl::StrFormat("value-%05d", i);
          if (absl::Status s = (*a)->Put(Key(i), v); !s.ok()) return s;
        }
        return absl::OkStatus();
      }));
      ASSERT_OK(Put(*db, "b", "x", "y"));
    }
    offset_ = FindOnce(path_, needle_);
    ASSERT_NE(offset_, std::string::npos);
    page_ = offset_ / kPage;
  }

  void Damage() {
    std::string bytes = testutil::ReadFileBytes(path_);
    bytes[offset_ + 3] ^= 0x20;
    testutil::WriteFileBytes(path_, bytes);
  }

  void ExpectNamesDamage(const absl::Status& s) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_EQ(DamagedPage(s), int64_t(page_)) << s;
    EXPECT_NE(s.message().find(path_), std::string::npos) << s << " does not name the file";
  }

  ScopedTempDir dir_;
  const std::string path_ = dir_.File("db");
  const std::string needle_ = "the-needle-value-0123456789";
  size_t offset_ = 0;
  pgid_t page_ = 0;
};

TEST_F(DamagedValueTest, GetOfADamagedPageIsDataLossNamingFileAndPage) {
  Damage();
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_));
  std::string v;
  ExpectNamesDamage(Get(*db, "a", Key(123), &v));
  // Every read of the page fails the same way, not just the first.
  ExpectNamesDamage(Get(*db, "a", Key(123), &v));
  ASSERT_OK(Get(*db, "b", "x", &v));  // other pages stay readable
  EXPECT_EQ(v, "y");
}

TEST_F(DamagedValueTest, ScanOfADamagedPageIsDataLoss) {
  Damage();
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_, Options{.read_only = true}));
  absl::Status s = db->View([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> a = tx.GetBucket("a");
    if (!a.ok()) return a.status();
    Cursor c = (*a)->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
    }
    return c.status();
  });
  ExpectNamesDamage(s);
}

TEST_F(DamagedValueTest, AWriteThatMeetsDamageCommitsNothingEvenIfItsErrorIsDropped) {
  Damage();
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_));
  const txid_t before = db->LastTxid();
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  ASSERT_OK(b->Put("new", "value"));
  ASSERT_OK_AND_ASSIGN(Bucket * a, tx->GetBucket("a"));
  (void)a->Put(Key(123), "rewritten");  // meets the damaged leaf; error dropped
  ExpectNamesDamage(tx->Commit());
  EXPECT_EQ(db->LastTxid(), before);
  std::string v;
  EXPECT_TRUE(absl::IsNotFound(Get(*db, "b", "new", &v)));
}

TEST_F(DamagedValueTest, CopiesRefuseToPassDamageOn) {
  Damage();
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_));
  std::ostringstream out;
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
  ExpectNamesDamage(tx->WriteTo(out));
  tx->Rollback();
  const std::string copy = dir_.File("compacted");
  ExpectNamesDamage(db->CompactTo(copy));
  EXPECT_FALSE(std::filesystem::exists(copy)) << "a refused copy was left behind";
}

TEST_F(DamagedValueTest, CheckFindsDamageEvenAfterTheProcessVerifiedThePage) {
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path_));
  std::string v;
  ASSERT_OK(Get(*db, "a", Key(123), &v));  // verified and marked
  FlipByte(path_, offset_ + 3);            // damaged afterwards
  std::vector<std::string> problems;
  absl::Status s = db->Check(&problems);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_FALSE(problems.empty());
}

TEST(VerificationTest, ASpanIsVerifiedOncePerAllocation) {
  ScopedTempDir dir;
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir.File("db")));
  ASSERT_OK(Put(*db, "b", "k", "v0"));
  // Stats walks every tree: it verifies each span not verified yet.
  const uint64_t walked = SpansVerified(*db);
  std::string v;
  ASSERT_OK(Get(*db, "b", "k", &v));
  ASSERT_OK(Get(*db, "b", "k", &v));
  EXPECT_EQ(SpansVerified(*db), walked) << "verified spans were verified again";
  ASSERT_OK(Put(*db, "b", "k", "v1"));  // rewrites the catalog's leaf elsewhere
  const uint64_t rewritten = SpansVerified(*db);
  EXPECT_GT(rewritten, walked) << "a newly written span was used unverified";
  EXPECT_EQ(SpansVerified(*db), rewritten);
  ASSERT_OK(Get(*db, "b", "k", &v));
  EXPECT_EQ(v, "v1");
}

// The rule the marks rest on: a page allocated anew loses its mark, so the
// span written there is verified before use even if the page held a span
// this process verified before.
TEST(VerificationTest, APageAllocatedAnewIsVerifiedAgain) {
  ScopedTempDir dir;
  const std::string path = dir.File("db");
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path));
  ASSERT_OK(Put(*db, "b", "k", "start"));
  std::set<pgid_t> verified_pages;
  int reused = 0;
  for (int i = 0; i < 40 && reused < 3; ++i) {
    const std::string needle = absl::StrFormat("needle-%04d-abcdefghijklmnop", i);
    ASSERT_OK(Put(*db, "b", "k", needle));
    const size_t at = FindOnce(path, needle);
    ASSERT_NE(at, std::string::npos);
    const pgid_t page = at / kPage;
    std::string v;
    if (verified_pages.count(page) != 0) {
      // This page held a verified span before; damage its new one.
      ++reused;
      FlipByte(path, at);
      absl::Status s = Get(*db, "b", "k", &v);
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss)
          << "page " << page << " was reused and damaged, yet read back as '" << v << "'";
      FlipByte(path, at);  // repaired
    }
    ASSERT_OK(Get(*db, "b", "k", &v));
    EXPECT_EQ(v, needle);
    verified_pages.insert(page);
  }
  EXPECT_GT(reused, 0) << "no page was reused: the test proves nothing";
}

TEST(VerificationTest, VerifiedPagesMarksAndForgetsRangesAcrossWordsAndChunks) {
  VerifiedPages marks;
  const pgid_t edge = VerifiedPages::kPagesPerChunk;
  for (pgid_t id : {pgid_t{2}, pgid_t{63}, pgid_t{64}, edge - 1, edge, edge + 70}) {
    EXPECT_FALSE(marks.Contains(id));
    marks.Add(id);
    EXPECT_TRUE(marks.Contains(id));
  }
  marks.Remove(63, 2);  // 63 and 64, across a word
  EXPECT_TRUE(marks.Contains(2));
  EXPECT_FALSE(marks.Contains(63));
  EXPECT_FALSE(marks.Contains(64));
  marks.Remove(edge - 1, 71);  // across a chunk, up to edge + 69
  EXPECT_FALSE(marks.Contains(edge - 1));
  EXPECT_FALSE(marks.Contains(edge));
  EXPECT_TRUE(marks.Contains(edge + 70)) << "Remove went past its range's end";
  marks.Remove(edge + 70, 1);
  EXPECT_FALSE(marks.Contains(edge + 70));
  marks.Add(VerifiedPages::kMaxPages);  // beyond the marks: never marked
  EXPECT_FALSE(marks.Contains(VerifiedPages::kMaxPages));
}

TEST(VerificationTest, AZeroLengthFileIsNotAStore) {
  ScopedTempDir dir;
  const std::string path = dir.File("db");
  testutil::WriteFileBytes(path, "");
  for (bool read_only : {false, true}) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.read_only = read_only});
    EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
    EXPECT_NE(db.status().message().find("empty data file"), std::string::npos) << db.status();
  }
  EXPECT_EQ(std::filesystem::file_size(path), 0u) << "a failed open changed the file";
}

TEST(VerificationTest, CreateLeavesAWholeStoreAndNoTemporaryFile) {
  ScopedTempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir.File("db")));
    EXPECT_EQ(db->open_note(), "");
  }
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "db");
  }
  EXPECT_EQ(files, 1);
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir.File("db"), Options{.create_if_missing = false}));
  std::vector<std::string> problems;
  EXPECT_OK(db->Check(&problems));
}

}  // namespace
}  // namespace revkv::btree
