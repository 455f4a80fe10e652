// What the revkv command line does with a damaged data file: a read that
// meets damage fails (never prints changed bytes), a damaged newest commit
// is refused unless --allow-rollback, a damaged meta page is worked around
// with a warning on stderr, an empty data file is not a store, and
// `check -w json` names each problem's page and kind.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

constexpr uint64_t kPage = 4096;

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

uint64_t U64(const std::string& b, size_t off) {
  uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}

// The page layout (btree/page.h): a 32-byte header, then the meta body with
// the txid at body offset 48; the commit list {u32 count, u32 0, then
// {u64 page, u64 checksum}...} follows the 56-byte body.
constexpr size_t kTxidAt = 32 + 48;
constexpr size_t kListAt = 32 + 56;

class DamageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("damage");
    db_ = dir_ + "/member/snap/db";
    // One txn of 60 puts (one process: each costs a start under ASan).
    std::string ops = "\n";
    for (int i = 0; i < 60; ++i) {
      ops += "put key" + std::to_string(i) + " " + std::string(150, char('a' + i % 26)) + "\n";
    }
    ops += "\n\n";
    ProcessResult txn = RunProcess({RevkvPath(), "--data-dir", dir_, "txn"}, ops);
    ASSERT_EQ(txn.exit_code, 0) << txn.err;
    ASSERT_NE(txn.out.find("SUCCESS"), std::string::npos) << txn.out;
    ASSERT_EQ(Revkv(dir_, {"put", "needle", needle_}).exit_code, 0);
    ASSERT_EQ(Revkv(dir_, {"put", "last", "x"}).exit_code, 0);
  }

  // The slot (0 or 1) of the newest meta page.
  int NewestMeta(const std::string& bytes) {
    return U64(bytes, kTxidAt) > U64(bytes, kPage + kTxidAt) ? 0 : 1;
  }

  std::string dir_, db_;
  const std::string needle_ = "the-needle-value-abcdefghijklmnopqrstuvwxyz";
};

TEST_F(DamageCliTest, GetOfADamagedValueFailsInsteadOfPrintingChangedBytes) {
  // Free pages may hold older copies of the value: damage every copy.
  std::string bytes = ReadAll(db_);
  std::vector<size_t> pages;
  for (size_t at = bytes.find(needle_); at != std::string::npos;
       at = bytes.find(needle_, at + 1)) {
    bytes[at + 5] ^= 0x01;
    pages.push_back(at / kPage);
  }
  ASSERT_FALSE(pages.empty());
  WriteAll(db_, bytes);
  ProcessResult r = Revkv(dir_, {"get", "needle", "--print-value-only"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("needle"), std::string::npos) << "printed: " << r.out;

  ProcessResult c = Revkv(dir_, {"-w", "json", "check"});
  EXPECT_NE(c.exit_code, 0);
  bool named = false;
  for (size_t page : pages) {
    named = named || c.out.find("\"page\":" + std::to_string(page)) != std::string::npos;
  }
  EXPECT_TRUE(named) << c.out;
  EXPECT_NE(c.out.find("\"ok\":false"), std::string::npos) << c.out;
}

TEST_F(DamageCliTest, ADamagedNewestCommitIsRefusedUnlessAllowRollback) {
  std::string bytes = ReadAll(db_);
  const size_t meta = NewestMeta(bytes) * kPage;
  uint32_t listed;
  std::memcpy(&listed, bytes.data() + meta + kListAt, 4);
  ASSERT_GT(listed, 0u) << "the newest commit lists no page";
  const uint64_t page = U64(bytes, meta + kListAt + 8);
  bytes[page * kPage + 200] ^= 0x01;
  WriteAll(db_, bytes);

  ProcessResult r = Revkv(dir_, {"get", "key1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--allow-rollback"), std::string::npos) << r.err;
  EXPECT_EQ(ReadAll(db_), bytes) << "a refused open changed the file";

  ProcessResult c = Revkv(dir_, {"-w", "json", "check"});
  EXPECT_NE(c.exit_code, 0);
  EXPECT_NE(c.out.find("\"kind\":\"newest_commit\",\"page\":" + std::to_string(page)),
            std::string::npos)
      << c.out;

  ProcessResult rolled = Revkv(dir_, {"--allow-rollback", "get", "key1", "--print-value-only"});
  EXPECT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_EQ(rolled.out, std::string(150, 'b') + "\n");
  EXPECT_NE(rolled.err.find("Warning: "), std::string::npos) << rolled.err;
}

TEST_F(DamageCliTest, ADamagedMetaPageOpensTheOtherWithAWarning) {
  std::string bytes = ReadAll(db_);
  bytes[NewestMeta(bytes) * kPage + 40] ^= 0x01;  // inside the newest meta's body
  WriteAll(db_, bytes);
  ProcessResult r = Revkv(dir_, {"get", "key1", "--print-value-only"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(150, 'b') + "\n");
  EXPECT_NE(r.err.find("Warning: "), std::string::npos) << "a silent rollback: " << r.err;
}

TEST(DamageCli, AnEmptyDataFileIsNotAStore) {
  const std::string dir = NewTempDir("empty");
  std::filesystem::create_directories(dir + "/member/snap");
  WriteAll(dir + "/member/snap/db", "");
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"get", "a"}, {"put", "a", "1"}, {"check"}}) {
    ProcessResult r = Revkv(dir, cmd);
    EXPECT_NE(r.exit_code, 0) << cmd[0];
    EXPECT_NE(r.err.find("empty data file"), std::string::npos) << r.err;
  }
  EXPECT_EQ(std::filesystem::file_size(dir + "/member/snap/db"), 0u);
}

}  // namespace
}  // namespace revkv::testing
