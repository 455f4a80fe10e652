#include "mvcc/revision.h"

namespace revkv::mvcc {
namespace {

void PutBigEndian(uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = char(v & 0xff);
    v >>= 8;
  }
}

uint64_t GetBigEndian(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

}  // namespace

std::string_view EncodeRevisionKey(Revision rev, bool tombstone, char* buf) {
  PutBigEndian(uint64_t(rev.main), buf);
  buf[8] = '_';
  PutBigEndian(uint64_t(rev.sub), buf + 9);
  buf[17] = kTombstoneMark;
  return std::string_view(buf, tombstone ? kMarkedRevBytes : kRevBytes);
}

void AppendRevisionKey(Revision rev, bool tombstone, std::string* out) {
  char buf[kMarkedRevBytes];
  out->append(EncodeRevisionKey(rev, tombstone, buf));
}

std::string RevisionKey(Revision rev, bool tombstone) {
  std::string s;
  AppendRevisionKey(rev, tombstone, &s);
  return s;
}

bool ParseRevisionKey(std::string_view key, Revision* rev, bool* tombstone) {
  if (key.size() != kRevBytes && key.size() != kMarkedRevBytes) return false;
  if (key[8] != '_') return false;
  if (key.size() == kMarkedRevBytes && key[17] != kTombstoneMark) return false;
  rev->main = int64_t(GetBigEndian(key.data()));
  rev->sub = int64_t(GetBigEndian(key.data() + 9));
  *tombstone = key.size() == kMarkedRevBytes;
  return true;
}

}  // namespace revkv::mvcc
