// The revkv binary on a snapshot whose trailer lies about its revisions
// (issue #19): `snapshot status` and `snapshot restore` print one `Error:`
// line naming the trailer's and the content's values, nothing on stdout, and
// exit 1 (etcdctl's ExitError); a refused restore writes no data directory.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "snapshot/trailer.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class SnapshotForgedCliTest : public ::testing::Test {
 protected:
  // A data directory at revision 4 (three puts on a fresh store), saved.
  void SetUp() override {
    root_ = NewTempDir("forgedcli");
    const std::string dir = root_ + "/src";
    for (const char* v : {"1", "2", "3"}) {
      ASSERT_EQ(RunProcess({RevkvPath(), "--data-dir", dir, "put", "a", v}, "").exit_code, 0);
    }
    snap_ = root_ + "/snap.db";
    ASSERT_EQ(RunProcess({RevkvPath(), "--data-dir", dir, "snapshot", "save", snap_}, "").exit_code,
              0);
    trailer_ = ReadTrailer();
    ASSERT_EQ(trailer_.revision, 4);
  }

  snapshot::Trailer ReadTrailer() {
    const std::string bytes = ReadAll(snap_);
    snapshot::Trailer t;
    EXPECT_TRUE(snapshot::DecodeTrailer(
                    std::string_view(bytes).substr(bytes.size() - snapshot::kTrailerSize), &t)
                    .ok());
    return t;
  }

  // Rewrites the snapshot's trailer as a valid one recording `t`.
  void Forge(const snapshot::Trailer& t) {
    std::string bytes = ReadAll(snap_);
    bytes.replace(bytes.size() - snapshot::kTrailerSize, snapshot::kTrailerSize,
                  snapshot::EncodeTrailer(t));
    std::ofstream(snap_, std::ios::binary | std::ios::trunc) << bytes;
  }

  std::string root_, snap_;
  snapshot::Trailer trailer_;
};

TEST_F(SnapshotForgedCliTest, StatusOfAForgedRevisionExitsNonZero) {
  ProcessResult ok = RunProcess({RevkvPath(), "-w", "json", "snapshot", "status", snap_}, "");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  snapshot::Trailer t = trailer_;
  t.revision = 120;
  Forge(t);
  for (const char* format : {"simple", "json"}) {
    ProcessResult r = RunProcess({RevkvPath(), "-w", format, "snapshot", "status", snap_}, "");
    EXPECT_EQ(r.exit_code, 1) << format;
    EXPECT_EQ(r.out, "") << format;
    EXPECT_EQ(r.LastErrLine(), "Error: " + snap_ +
                                   ": snapshot trailer says revision 120 but the content holds "
                                   "revision 4")
        << format;
  }
}

TEST_F(SnapshotForgedCliTest, RestoreOfAForgedCompactRevisionExitsNonZeroAndWritesNothing) {
  snapshot::Trailer t = trailer_;
  t.compact_revision = 3;
  Forge(t);
  const std::string target = root_ + "/restored";
  ProcessResult r =
      RunProcess({RevkvPath(), "snapshot", "restore", snap_, "--data-dir", target}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.LastErrLine(), "Error: " + snap_ +
                                 ": snapshot trailer says compact revision 3 but the content "
                                 "holds compact revision -1");
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(SnapshotForgedCliTest, StatusOfACompactRevisionAboveTheRevisionExitsNonZero) {
  snapshot::Trailer t = trailer_;
  t.compact_revision = 5;
  Forge(t);
  ProcessResult r = RunProcess({RevkvPath(), "snapshot", "status", snap_}, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.LastErrLine(), "Error: " + snap_ +
                                 ": snapshot trailer is inconsistent: compact revision 5 is "
                                 "above revision 4");
}

}  // namespace
}  // namespace revkv::testing
