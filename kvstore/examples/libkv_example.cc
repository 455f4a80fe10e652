// libkv_example: the libkv CAS store (kvstore/store.h) as libnetwork uses
// it -- open by backend name, put and get, a compare-and-swap counter, list
// a directory, and the errors a stale writer sees.
//
//   bazel run //kvstore/examples:libkv_example [-- PATH]   (default: a fresh temporary one)
#include <cstdio>
#include <optional>
#include <string>

#include "kvstore/examples/example_path.h"
#include "kvstore/store.h"

using revkv::kvstore::Config;
using revkv::kvstore::KVPair;
using revkv::kvstore::kRevkv;

int main(int argc, char** argv) {
  const ExamplePath where(argc, argv, "libkv.db");
  const std::string path = where.path();
  auto store = revkv::kvstore::New(kRevkv, path, Config{std::chrono::seconds(1), "libnetwork"});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  revkv::kvstore::Store& kv = **store;

  // Unconditional put and get.
  if (!kv.Put("config/name", "example").ok()) return 1;
  auto name = kv.Get("config/name");
  std::printf("config/name = %s (index %llu)\n", name->value.c_str(),
              (unsigned long long)name->last_index);

  // A counter bumped by compare-and-swap: create it if missing, then
  // read-modify-write, retrying when someone else wrote in between.
  auto created = kv.AtomicPut("counter", "0", std::nullopt);
  if (!created.ok() && !revkv::kvstore::IsKeyExists(created.status())) return 1;
  for (int i = 0; i < 3; ++i) {
    while (true) {
      auto cur = kv.Get("counter");
      if (!cur.ok()) return 1;
      auto next = kv.AtomicPut("counter", std::to_string(std::stoi(cur->value) + 1), *cur);
      if (next.ok()) break;
      if (!revkv::kvstore::IsKeyModified(next.status())) return 1;
    }
  }
  std::printf("counter = %s\n", kv.Get("counter")->value.c_str());

  // A stale index is refused.
  KVPair stale{"counter", "", 1};
  auto refused = kv.AtomicPut("counter", "999", stale);
  std::printf("stale AtomicPut: %s\n", std::string(refused.status().message()).c_str());
  std::printf("AtomicDelete without previous: %s\n",
              std::string(kv.AtomicDelete("counter", std::nullopt).message()).c_str());

  // Everything under a directory.
  for (const char* k : {"config/a", "config/b"}) kv.Put(k, "x").IgnoreError();
  auto list = kv.List("config/");
  for (const KVPair& p : *list) std::printf("list: %s = %s\n", p.key.c_str(), p.value.c_str());

  kv.Close();
  return 0;
}
