// The server's write-ahead log (server/wal.h): entries come back after a
// reopen exactly as synced, from the applied index on; segments roll and
// are released; a torn last write is cut off and overwritten cleanly;
// damage anywhere else, or a lost entry, is DataLoss naming the place, and
// random damage never yields different entries.
#include "server/wal.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::server {
namespace {

namespace fs = std::filesystem;

std::string EntryData(uint64_t index) {
  // Sizes vary across sectors: some records span several.
  return std::string(1 + (index * 37) % 1500, char('a' + index % 26)) + std::to_string(index);
}

// The files of `dir` ending in `suffix`, sorted (segments: by sequence).
std::vector<std::string> FilesEnding(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == suffix) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::string> Segments(const std::string& dir) { return FilesEnding(dir, ".wal"); }

ino_t Inode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::NewTempDir("wal") + "/wal"; }

  std::unique_ptr<Wal> Open(uint64_t applied, std::vector<WalEntry>* out,
                            uint64_t segment_bytes = 1 << 20) {
    absl::StatusOr<std::unique_ptr<Wal>> w = Wal::Open(dir_, applied, out, {segment_bytes});
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  void AppendSynced(Wal* w, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i <= to; ++i) ASSERT_TRUE(w->Append(i, EntryData(i)).ok()) << i;
    ASSERT_TRUE(w->Sync().ok());
  }
  static void ExpectEntries(const std::vector<WalEntry>& got, uint64_t from, uint64_t to) {
    ASSERT_EQ(got.size(), to >= from ? to - from + 1 : 0);
    for (uint64_t i = from; i <= to; ++i) {
      EXPECT_EQ(got[i - from].index, i);
      EXPECT_EQ(got[i - from].data, EntryData(i)) << i;
    }
  }
  std::string dir_;
};

TEST_F(WalTest, SyncedEntriesComeBackFromTheAppliedIndexOn) {
  std::vector<WalEntry> none;
  std::unique_ptr<Wal> w = Open(0, &none);
  EXPECT_TRUE(none.empty());
  AppendSynced(w.get(), 1, 100);
  w.reset();
  std::vector<WalEntry> got;
  w = Open(40, &got);
  ExpectEntries(got, 41, 100);
  EXPECT_EQ(w->last_index(), 100u);
  // The log goes on after them, and reopens whole.
  AppendSynced(w.get(), 101, 120);
  w.reset();
  got.clear();
  Open(0, &got);
  ExpectEntries(got, 1, 120);
}

TEST_F(WalTest, UnsyncedEntriesAreNotDurable) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got);
  AppendSynced(w.get(), 1, 5);
  ASSERT_TRUE(w->Append(6, EntryData(6)).ok());
  w.reset();
  Open(0, &got);
  ExpectEntries(got, 1, 5);
}

TEST_F(WalTest, AppendsOnlyTheNextIndex) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(7, &got);
  EXPECT_EQ(w->Append(9, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(w->Append(7, "x").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(w->Append(8, "x").ok());
}

TEST_F(WalTest, SegmentsRollAndAreReleasedOnceTheBackendHoldsThem) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got, 16 << 10);
  AppendSynced(w.get(), 1, 300);
  const size_t segments = w->segment_count();
  ASSERT_GE(segments, 5u);
  w.reset();
  Open(0, &got, 16 << 10);
  ExpectEntries(got, 1, 300);  // across every segment

  got.clear();
  w = Open(0, &got, 16 << 10);
  ASSERT_TRUE(w->Release(150).ok());
  EXPECT_LT(w->segment_count(), segments);
  EXPECT_EQ(Segments(dir_).size(), w->segment_count());
  w.reset();
  // What the backend holds (up to 150) may be gone; the rest is whole.
  got.clear();
  Open(150, &got, 16 << 10);
  ExpectEntries(got, 151, 300);
  // A backend behind what was released has lost entries: refused.
  got.clear();
  absl::StatusOr<std::unique_ptr<Wal>> behind = Wal::Open(dir_, 10, &got, {16 << 10});
  ASSERT_FALSE(behind.ok());
  EXPECT_TRUE(IsWalCorrupt(behind.status())) << behind.status();
}

TEST_F(WalTest, ARollTakesTheSparePreparedAheadAndStartsTheNext) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got, 16 << 10);
  w->WaitSpareReady();
  std::vector<std::string> spares = FilesEnding(dir_, ".tmp");
  ASSERT_EQ(spares.size(), 1u);
  EXPECT_EQ(fs::file_size(spares[0]), 16u << 10);  // whole, zero-filled
  EXPECT_EQ(ReadFile(spares[0]), std::string(16 << 10, '\0'));
  const ino_t spare = Inode(spares[0]);
  const size_t before = w->segment_count();
  uint64_t i = 1;
  for (; w->segment_count() == before && i < 1000; ++i) AppendSynced(w.get(), i, i);
  ASSERT_EQ(w->segment_count(), before + 1);
  // The new segment is the spare's file, put in place.
  EXPECT_EQ(Inode(Segments(dir_).back()), spare);
  w->WaitSpareReady();
  spares = FilesEnding(dir_, ".tmp");
  ASSERT_EQ(spares.size(), 1u);
  EXPECT_NE(Inode(spares[0]), spare);  // the next one, a file of its own
  // A reopen drops the spare left behind; the entries are whole.
  w.reset();
  got.clear();
  w = Open(0, &got, 16 << 10);
  ExpectEntries(got, 1, i - 1);
  AppendSynced(w.get(), i, i);
}

TEST_F(WalTest, ABackendAheadOfTheLogStartsANewSegment) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got);
  AppendSynced(w.get(), 1, 10);
  w.reset();
  w = Open(500, &got);  // e.g. entries applied by a log since lost
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(w->last_index(), 500u);
  AppendSynced(w.get(), 501, 510);
  w.reset();
  got.clear();
  Open(500, &got);
  ExpectEntries(got, 501, 510);
}

TEST_F(WalTest, ATornLastWriteIsCutAndTheLogGoesOnCleanly) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got);
  AppendSynced(w.get(), 1, 20);
  w.reset();
  // Entry 21 as a crash leaves it: a record of several sectors of which
  // only the first reached the disk.
  const std::string seg = Segments(dir_).back();
  std::string bytes = ReadFile(seg);
  size_t end = 0;
  {
    // Find the end of the log: the first zero header.
    while (end + 16 <= bytes.size() &&
           !std::all_of(bytes.begin() + long(end), bytes.begin() + long(end) + 16,
                        [](char c) { return c == 0; })) {
      uint32_t len;
      std::memcpy(&len, bytes.data() + end, 4);
      end += 16 + ((len + 7) & ~7u);
    }
  }
  std::unique_ptr<Wal> scratch;
  {
    // The record bytes of entry 21, made by a log of its own.
    const std::string other = testing::NewTempDir("wal2") + "/wal";
    std::vector<WalEntry> none;
    absl::StatusOr<std::unique_ptr<Wal>> o = Wal::Open(other, 20, &none, {1 << 20});
    ASSERT_TRUE(o.ok());
    const std::string big(3000, 'z');
    ASSERT_TRUE((*o)->Append(21, big).ok());
    ASSERT_TRUE((*o)->Sync().ok());
    const std::string rec = ReadFile(Segments(other).back()).substr(0, 16 + 3000);
    const size_t first_sector = (end / 512 + 1) * 512 - end;  // to the sector's end
    bytes.replace(end, first_sector, rec.substr(0, first_sector));
  }
  WriteFile(seg, bytes);
  got.clear();
  w = Open(0, &got);
  ExpectEntries(got, 1, 20);
  // The torn record's remains are zeroed: later entries reopen cleanly.
  AppendSynced(w.get(), 21, 25);
  w.reset();
  got.clear();
  Open(0, &got);
  ExpectEntries(got, 1, 25);
}

TEST_F(WalTest, DamageInsideTheLogIsDataLossNamingThePlace) {
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got);
  AppendSynced(w.get(), 1, 50);
  w.reset();
  const std::string seg = Segments(dir_).back();
  std::string bytes = ReadFile(seg);
  bytes[20] ^= 0x40;  // inside entry 1's payload
  WriteFile(seg, bytes);
  got.clear();
  absl::StatusOr<std::unique_ptr<Wal>> bad = Wal::Open(dir_, 0, &got, {1 << 20});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(IsWalCorrupt(bad.status())) << bad.status();
  EXPECT_NE(bad.status().message().find(seg + " offset 0"), std::string::npos) << bad.status();
}

// Random damage to a log of three segments: an error, or the entries as
// written (a prefix of them, when the damage reads as a torn end) -- never
// different entries.
TEST_F(WalTest, RandomDamageNeverYieldsDifferentEntries) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::vector<WalEntry> got;
  std::unique_ptr<Wal> w = Open(0, &got, 64 << 10);
  AppendSynced(w.get(), 1, 150);
  w.reset();
  const std::vector<std::string> segs = Segments(dir_);
  ASSERT_GE(segs.size(), 2u);
  std::vector<std::string> originals;
  for (const std::string& s : segs) originals.push_back(ReadFile(s));
  int errors = 0, whole = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const size_t which = rng() % segs.size();
    std::string bytes = originals[which];
    const size_t at = rng() % std::min<size_t>(bytes.size(), 48 << 10);
    bytes[at] ^= char(1 + rng() % 255);
    WriteFile(segs[which], bytes);
    got.clear();
    absl::StatusOr<std::unique_ptr<Wal>> r = Wal::Open(dir_, 0, &got, {64 << 10});
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
      ++errors;
    } else {
      ASSERT_LE(got.size(), 150u);
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].index, i + 1) << "trial " << trial;
        ASSERT_EQ(got[i].data, EntryData(i + 1)) << "trial " << trial << " seed " << seed;
      }
      whole += got.size() == 150;
      r->reset();
    }
    // Undo (an open may have zeroed a torn tail, or made a segment).
    for (const auto& e : fs::directory_iterator(dir_)) fs::remove(e.path());
    for (size_t i = 0; i < segs.size(); ++i) WriteFile(segs[i], originals[i]);
  }
  EXPECT_GT(errors, 0);
  std::printf("errors %d, whole %d of 200\n", errors, whole);
}

}  // namespace
}  // namespace revkv::server
