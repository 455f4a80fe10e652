// dkv_example: the dKV-style store with expiry (kvstore/dkv/) -- values
// that expire and keys that are deleted, driven by a fake clock so the
// example runs instantly, and the typed errors.
//
//   bazel run //kvstore/examples:dkv_example [-- PATH]   (default: a fresh temporary one)
#include <cstdio>
#include <string>

#include "kvstore/examples/example_path.h"
#include "kvstore/dkv/local_store.h"

namespace dkv = revkv::kvstore::dkv;
using std::chrono::seconds;

static void Show(dkv::LocalStore& kv, const char* key) {
  auto got = kv.Get(key);
  auto has = kv.Has(key);
  std::printf("  %-8s Get: %-10s Has: %s\n", key,
              got->loaded ? ("\"" + got->value + "\"").c_str() : "(none)", *has ? "yes" : "no");
}

int main(int argc, char** argv) {
  const ExamplePath where(argc, argv, "dkv.db");
  const std::string path = where.path();
  dkv::FakeClock clock;
  dkv::LocalStoreOptions options;
  options.clock = &clock;
  // The example sweeps itself (SweepNow), so its output does not depend on
  // whether the background sweeper, woken by the clock's jump, got there first.
  options.background_sweeper = false;
  auto store = dkv::LocalStore::Open(dkv::OpenDB(path), options);
  if (!store.ok()) {
    std::printf("%s\n", dkv::ErrorFromStatus(store.status()).ToString().c_str());
    return 1;
  }
  dkv::LocalStore& kv = **store;

  kv.Set("plain", "forever").IgnoreError();
  kv.SetE("session", "token", seconds(30), seconds(60)).IgnoreError();
  kv.SetEIfUnset("session", "ignored", seconds(0), seconds(0)).IgnoreError();
  std::printf("t=0s\n");
  for (const char* k : {"plain", "session"}) Show(kv, k);

  clock.Advance(seconds(30));
  std::printf("t=30s (session expired)\n");
  Show(kv, "session");

  clock.Advance(seconds(30));
  auto swept = kv.SweepNow();
  std::printf("t=60s (session deleted; swept %lld)\n", (long long)*swept);
  Show(kv, "session");

  auto info = kv.GetDBInfo();
  std::printf("db: %s, %lld keys, revision %lld, %llu bytes\n", info->db_type.c_str(),
              (long long)info->key_count, (long long)info->revision,
              (unsigned long long)info->size_bytes);

  kv.Close();
  std::printf("after Close: %s\n",
              dkv::ErrorFromStatus(kv.Set("plain", "x")).ToString().c_str());
  return 0;
}
