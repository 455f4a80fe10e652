// The index checkpoint is verified (issue #19): a checkpoint whose bytes,
// format or content do not hold up is never used; open rebuilds the index
// from the records and says so in Store::open_warnings. A good one is still
// used.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/checkpoint.h"
#include "mvcc/errors.h"
#include "mvcc/key_index.h"
#include "mvcc/store.h"
#include "util/varint.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

// Every answer of the store: each key at each readable revision.
std::vector<std::string> Answers(Store* s) {
  std::vector<std::string> out;
  for (int64_t rev = std::max<int64_t>(s->CompactRev(), 1); rev <= s->Rev(); ++rev) {
    absl::StatusOr<RangeResult> r = s->Range("", std::string(1, '\0'), RangeOptions{0, rev});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    for (const KeyValue& kv : r->kvs) {
      out.push_back(absl::StrFormat("@%d %s=%s c%d m%d v%d", rev, kv.key, kv.value,
                                    kv.create_revision, kv.mod_revision, kv.version));
    }
  }
  return out;
}

std::string IndexValue(backend::Backend* b, std::string_view key) {
  backend::BatchTx& tx = b->batch_tx();
  tx.Lock();
  absl::StatusOr<backend::KeyValues> kvs = tx.UnsafeRange(kIndexBucket, key, "", 0);
  tx.Unlock();
  return kvs.ok() && kvs->size() == 1 ? kvs->values[0] : "";
}

// Writes behind the store, through the backend: page checksums see nothing
// wrong with a value written this way.
void SetIndexValue(backend::Backend* b, std::string_view key, std::string_view value) {
  backend::BatchTx& tx = b->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafePut(kIndexBucket, key, value).ok());
  tx.Unlock();
}

// The header's fields (checkpoint.h's layout).
CheckpointHeader DecodeFields(std::string_view header) {
  int64_t f[6];
  for (int i = 0; i < 6; ++i) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v = (v << 8) | uint8_t(header[8 + 8 * i + j]);
    f[i] = int64_t(v);
  }
  return {f[0], f[1], f[2], f[3], f[4], f[5]};
}

// `chunk` without the entry of `key`.
std::string DropEntry(std::string_view chunk, std::string_view key) {
  std::string out;
  while (!chunk.empty()) {
    std::string_view start = chunk;
    uint64_t size = 0;
    EXPECT_TRUE(util::GetVarint(&chunk, &size));
    std::string_view k = chunk.substr(0, size);
    chunk.remove_prefix(size);
    KeyIndex ki;
    EXPECT_TRUE(ki.DecodeFrom(&chunk));
    if (k != key) out.append(start.substr(0, start.size() - chunk.size()));
  }
  return out;
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { env_.Open(); }

  Store* store() { return env_.store(); }

  // keys key000..key199 (key000 first, key199 last), then rewrites of some
  // and a delete: a store whose keys have several revisions.
  void Fill() {
    for (int i = 0; i < 200; ++i) Put(absl::StrFormat("key%03d", i), "v1");
    for (int i = 0; i < 200; i += 7) Put(absl::StrFormat("key%03d", i), "v2");
    ASSERT_TRUE(store()->DeleteRange("key050", "").ok());
  }
  void Put(const std::string& k, const std::string& v) { ASSERT_TRUE(store()->Put(k, v).ok()); }

  // A clean close and open: the next open loads the checkpoint.
  void CloseWithCheckpoint() {
    env_.Reopen();
    ASSERT_TRUE(store()->opened_from_checkpoint());
    ASSERT_TRUE(store()->open_warnings().empty());
  }

  // Replaces chunk 0 and the header with `chunk` and a valid header for it.
  void RewriteCheckpoint(const std::string& chunk) {
    CheckpointHeader h = DecodeFields(IndexValue(env_.backend(), "header"));
    ASSERT_EQ(h.chunks, 1);
    SetIndexValue(env_.backend(), CheckpointChunkKey(0), chunk);
    SetIndexValue(env_.backend(), "header", EncodeCheckpointHeader(h, {chunk}));
  }

  void ExpectRebuiltWithOneWarning() {
    EXPECT_FALSE(store()->opened_from_checkpoint());
    ASSERT_EQ(store()->open_warnings().size(), 1u);
    EXPECT_TRUE(IsCheckpointRejected(store()->open_warnings()[0]))
        << store()->open_warnings()[0];
  }

  StoreEnv env_;
};

TEST_F(CheckpointTest, ACheckpointWithAFlippedByteIsRebuiltFromRecords) {
  Fill();
  CloseWithCheckpoint();
  const std::vector<std::string> before = Answers(store());
  const int64_t rev = store()->Rev();
  // key100 becomes key10/: still in key order, so only the checksum tells.
  std::string chunk = IndexValue(env_.backend(), CheckpointChunkKey(0));
  size_t at = chunk.find("key100");
  ASSERT_NE(at, std::string::npos);
  chunk[at + 5] = '/';
  SetIndexValue(env_.backend(), CheckpointChunkKey(0), chunk);
  env_.Reopen();
  ExpectRebuiltWithOneWarning();
  EXPECT_EQ(store()->Rev(), rev);
  EXPECT_EQ(Answers(store()), before);
  // A later put of the key updates it: once, in order, the next version.
  Put("key100", "v3");
  absl::StatusOr<RangeResult> r = store()->Range("key099", "key102", {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 3u);
  EXPECT_EQ(r->kvs[0].key, "key099");
  EXPECT_EQ(r->kvs[1].key, "key100");
  EXPECT_EQ(r->kvs[1].version, 2);  // key100 is not a multiple of 7: v1, then v3
  EXPECT_EQ(r->kvs[2].key, "key101");
}

TEST_F(CheckpointTest, EveryFlippedByteOfTheCheckpointIsCaught) {
  Fill();
  CloseWithCheckpoint();
  const std::vector<std::string> before = Answers(store());
  const std::string header = IndexValue(env_.backend(), "header");
  const std::string chunk = IndexValue(env_.backend(), CheckpointChunkKey(0));
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 8; ++i) {
    // Half in the header (past the magic: a changed magic is another format),
    // half in the chunk.
    std::string h = header, c = chunk;
    std::string& target = i % 2 == 0 ? h : c;
    const size_t from = i % 2 == 0 ? 8 : 0;
    const size_t at = from + rng() % (target.size() - from);
    target[at] = char(target[at] ^ (1 + rng() % 255));
    SetIndexValue(env_.backend(), "header", h);
    SetIndexValue(env_.backend(), CheckpointChunkKey(0), c);
    env_.Reopen();
    SCOPED_TRACE(absl::StrFormat("%s byte %d", i % 2 == 0 ? "header" : "chunk", at));
    ExpectRebuiltWithOneWarning();
    EXPECT_EQ(Answers(store()), before);
    // The rebuilt store's close wrote a good checkpoint again.
    CloseWithCheckpoint();
  }
}

TEST_F(CheckpointTest, ACheckpointDisagreeingWithTheRecordsIsRebuilt) {
  Fill();
  CloseWithCheckpoint();
  const std::vector<std::string> before = Answers(store());
  const std::string chunk = IndexValue(env_.backend(), CheckpointChunkKey(0));
  // key000 holds the first record, key050 the last (its delete).
  for (const char* dropped : {"key000", "key050"}) {
    SCOPED_TRACE(dropped);
    RewriteCheckpoint(DropEntry(chunk, dropped));
    env_.Reopen();
    ExpectRebuiltWithOneWarning();
    EXPECT_EQ(Answers(store()), before);
    CloseWithCheckpoint();
  }
}

// A key dropped from the middle leaves the first and last records as they
// are: only counting the records finds it, which `revkv check` asks for.
TEST_F(CheckpointTest, CountingTheRecordsFindsAKeyMissingFromTheMiddle) {
  Fill();
  CloseWithCheckpoint();
  RewriteCheckpoint(DropEntry(IndexValue(env_.backend(), CheckpointChunkKey(0)), "key100"));
  ASSERT_TRUE(env_.backend()->ForceCommit().ok());
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view =
      env_.backend()->NewConcurrentReadTx();
  ASSERT_TRUE(view.ok());
  struct Reader : BucketReader {
    backend::ConcurrentReadTx* v;
    absl::StatusOr<std::string_view> Get(std::string_view b, std::string_view k) override {
      return v->UnsafeGet(b, k);
    }
    absl::StatusOr<std::vector<std::string>> Keys(std::string_view b, std::string_view from,
                                                  std::string_view to, size_t limit) override {
      absl::StatusOr<backend::KeyValues> kvs = v->UnsafeRange(b, from, to, limit);
      if (!kvs.ok()) return kvs.status();
      return kvs->keys;
    }
    absl::Status ForEachKey(std::string_view b,
                            const std::function<absl::Status(std::string_view)>& fn) override {
      return v->UnsafeForEach(b, [&](std::string_view k, std::string_view) { return fn(k); });
    }
  } reader;
  reader.v = view->get();
  for (bool count : {false, true}) {
    Index index;
    CheckpointHeader h;
    VerifyOptions options;
    options.count_records = count;
    absl::StatusOr<bool> loaded = LoadVerifiedCheckpoint(reader, -1, -1, options, &index, &h);
    if (count) {
      EXPECT_TRUE(IsCheckpointRejected(loaded.status())) << loaded.status();
      EXPECT_EQ(index.size(), 0u);
    } else {
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      EXPECT_TRUE(*loaded);
      EXPECT_EQ(index.size(), 199u);
    }
  }
}

TEST_F(CheckpointTest, ACheckpointWithKeysOutOfOrderIsRebuilt) {
  Fill();
  CloseWithCheckpoint();
  const std::vector<std::string> before = Answers(store());
  // key100 becomes key10:, after key101: a valid checksum over keys out of
  // order (the reported defect, written by a faulty writer).
  std::string chunk = IndexValue(env_.backend(), CheckpointChunkKey(0));
  size_t at = chunk.find("key100");
  ASSERT_NE(at, std::string::npos);
  chunk[at + 5] = ':';
  RewriteCheckpoint(chunk);
  env_.Reopen();
  ExpectRebuiltWithOneWarning();
  EXPECT_EQ(Answers(store()), before);
}

TEST_F(CheckpointTest, AnOldFormatCheckpointIsIgnored) {
  Fill();
  CloseWithCheckpoint();
  const std::vector<std::string> before = Answers(store());
  // What revkv wrote before the checksum: magic revkvIX1 and the same six
  // fields, no checksum; and a chunk it would have believed, without key000.
  const std::string header = IndexValue(env_.backend(), "header");
  std::string old = "revkvIX1" + header.substr(8, 48);
  SetIndexValue(env_.backend(), "header", old);
  SetIndexValue(env_.backend(), CheckpointChunkKey(0),
                DropEntry(IndexValue(env_.backend(), CheckpointChunkKey(0)), "key000"));
  env_.Reopen();
  EXPECT_FALSE(store()->opened_from_checkpoint());
  EXPECT_TRUE(store()->open_warnings().empty()) << store()->open_warnings()[0];
  EXPECT_EQ(Answers(store()), before);
  // Its close replaced it with one of the current format, which is used.
  env_.Reopen();
  EXPECT_TRUE(store()->opened_from_checkpoint());
  EXPECT_EQ(IndexValue(env_.backend(), "header").substr(0, 8), "revkvIX2");
  EXPECT_EQ(Answers(store()), before);
}

// Random histories with compactions, each ending in a clean close: every
// open loads the checkpoint, with no warning, and answers as before.
TEST_F(CheckpointTest, AGoodCheckpointIsUsedWithoutWarnings) {
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE(absl::StrFormat("round %d", round));
    for (int i = 0; i < 60; ++i) {
      const std::string key = absl::StrFormat("k%02d", rng() % 40);
      switch (rng() % 4) {
        case 0:
          ASSERT_TRUE(store()->DeleteRange(key, "").ok());
          break;
        case 1: {  // a transaction with several sub revisions
          absl::StatusOr<std::unique_ptr<TxnWrite>> w = store()->Write();
          ASSERT_TRUE(w.ok());
          ASSERT_TRUE((*w)->Put(key, "t").ok());
          ASSERT_TRUE((*w)->Put(key + "x", "t").ok());
          ASSERT_TRUE((*w)->DeleteRange(key, "").ok());
          ASSERT_TRUE((*w)->End().ok());
          break;
        }
        default:
          Put(key, std::to_string(rng()));
      }
    }
    if (rng() % 2 == 0) {
      const int64_t at = store()->Rev() - int64_t(rng() % 20);
      if (at > store()->CompactRev()) {
        ASSERT_TRUE(store()->Compact(at).ok());
        ASSERT_TRUE(store()->WaitCompaction().ok());
      }
    }
    const std::vector<std::string> before = Answers(store());
    env_.Reopen();
    EXPECT_TRUE(store()->opened_from_checkpoint());
    EXPECT_TRUE(store()->open_warnings().empty()) << store()->open_warnings()[0];
    EXPECT_EQ(Answers(store()), before);
  }
}

}  // namespace
}  // namespace revkv::mvcc
