// Revision keys, KeyValue records and CRC-32C, byte for byte as etcd has them.
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "util/crc32c.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"
#include "tests/mvcc/kv.pb.h"

namespace revkv::mvcc {
namespace {

TEST(RevisionKey, IsBigEndianMainUnderscoreSub) {
  // etcd revToBytes({main: 2, sub: 1}).
  EXPECT_EQ(RevisionKey({2, 1}), std::string("\0\0\0\0\0\0\0\x02_\0\0\0\0\0\0\0\x01", 17));
}

TEST(RevisionKey, TombstoneAppendsT) {
  EXPECT_EQ(RevisionKey({3, 0}, true),
            std::string("\0\0\0\0\0\0\0\x03_\0\0\0\0\0\0\0\0t", 18));
}

TEST(RevisionKey, ByteOrderIsRevisionOrder) {
  std::vector<Revision> revs = {{1, 0}, {1, 1}, {1, 256}, {2, 0}, {256, 0}, {70000, 3}};
  for (size_t i = 0; i + 1 < revs.size(); ++i) {
    EXPECT_LT(RevisionKey(revs[i]), RevisionKey(revs[i + 1])) << i;
  }
}

TEST(RevisionKey, ParsesWhatItWrites) {
  Revision r;
  bool tomb;
  ASSERT_TRUE(ParseRevisionKey(RevisionKey({123456789, 42}, true), &r, &tomb));
  EXPECT_EQ(r, (Revision{123456789, 42}));
  EXPECT_TRUE(tomb);
  EXPECT_FALSE(ParseRevisionKey("short", &r, &tomb));
}

TEST(KeyValueEncoding, GoldenBytesOfAPut) {
  // etcd stores put a=1 at revision 2 as key:"a" create:2 mod:2 version:1 value:"1".
  KeyValue kv{"a", 2, 2, 1, "1", 0};
  EXPECT_EQ(EncodeKeyValue(kv), std::string("\x0a\x01" "a" "\x10\x02\x18\x02\x20\x01\x2a\x01" "1"));
}

TEST(KeyValueEncoding, TombstoneHoldsOnlyTheKey) {
  KeyValue kv{"a", 0, 0, 0, "", 0};
  EXPECT_EQ(EncodeKeyValue(kv), std::string("\x0a\x01" "a"));
}

TEST(KeyValueEncoding, MatchesProtobufForRandomRecords) {
  unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    KeyValue kv;
    kv.key = std::string(rng() % 40, char('a' + rng() % 26));
    kv.value = std::string(rng() % 300, char(rng()));
    auto pick = [&]() -> int64_t {
      switch (rng() % 4) {
        case 0: return 0;
        case 1: return int64_t(rng() % 200);
        case 2: return int64_t(rng());
        default: return -int64_t(rng() % 1000);
      }
    };
    kv.create_revision = pick();
    kv.mod_revision = pick();
    kv.version = pick();
    kv.lease = pick();
    mvccpb::KeyValue pb;
    pb.set_key(kv.key);
    pb.set_create_revision(kv.create_revision);
    pb.set_mod_revision(kv.mod_revision);
    pb.set_version(kv.version);
    pb.set_value(kv.value);
    pb.set_lease(kv.lease);
    std::string want;
    ASSERT_TRUE(pb.SerializeToString(&want));
    std::string got = EncodeKeyValue(kv);
    ASSERT_EQ(got, want) << "record " << i;
    KeyValue back;
    ASSERT_TRUE(DecodeKeyValue(got, &back).ok());
    EXPECT_EQ(back, kv);
  }
}

TEST(KeyValueDecoding, RejectsTruncatedRecords) {
  std::string enc = EncodeKeyValue(KeyValue{"key", 5, 6, 1, "value", 0});
  KeyValue kv;
  EXPECT_FALSE(DecodeKeyValue(enc.substr(0, enc.size() - 2), &kv).ok());
}

TEST(Crc32c, EmptyStoreHashIsEtcds) {
  // etcd 3.4's HashKV of a fresh store: crc32c("key") = 1084519789.
  EXPECT_EQ(util::Crc32c("key"), 1084519789u);
}

// RFC 3720 B.4's vectors (what Go's crc32 with the Castagnoli table gives),
// for both implementations: Maintenance.Hash must be etcd's bit for bit.
TEST(Crc32c, Rfc3720Vectors) {
  const std::string zeros(32, '\0'), ones(32, '\xff');
  std::string up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[i] = char(i);
    down[i] = char(31 - i);
  }
  for (auto* f : {&util::Crc32cExtend, &util::Crc32cExtendPortable}) {
    EXPECT_EQ(f(0, zeros), 0x8A9136AAu);
    EXPECT_EQ(f(0, ones), 0x62A8AB43u);
    EXPECT_EQ(f(0, up), 0x46DD794Eu);
    EXPECT_EQ(f(0, down), 0x113FDB5Cu);
    EXPECT_EQ(f(0, "123456789"), 0xE3069283u);
  }
}

TEST(Crc32c, HardwareAndPortableAgree) {
  std::mt19937_64 rng(7);
  for (int n = 0; n < 300; ++n) {
    std::string s(size_t(n), '\0');
    for (char& c : s) c = char(rng());
    EXPECT_EQ(util::Crc32cExtend(12345, s), util::Crc32cExtendPortable(12345, s)) << n;
  }
}

TEST(Crc32c, ExtendingEqualsOneShot) {
  EXPECT_EQ(util::Crc32cExtend(util::Crc32c("hello "), "world"), util::Crc32c("hello world"));
}

}  // namespace
}  // namespace revkv::mvcc
