// watch_example: libkv's Watch and WatchTree (kvstore/watch.h) -- a
// consumer thread follows a key and a directory while the main thread
// writes, then stops both watches with one stop token.
//
//   bazel run //kvstore/examples:watch_example [-- PATH]   (default: a fresh temporary one)
#include <cstdio>
#include <stop_token>
#include <string>
#include <thread>

#include "kvstore/examples/example_path.h"
#include "kvstore/store.h"

using revkv::kvstore::Config;
using revkv::kvstore::KVPair;
using revkv::kvstore::kRevkv;

int main(int argc, char** argv) {
  const ExamplePath where(argc, argv, "watch.db");
  auto store = revkv::kvstore::New(kRevkv, where.path(), Config{std::chrono::seconds(1), "app"});
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  revkv::kvstore::Store& kv = **store;
  if (!kv.Put("leader", "node-1").ok()) return 1;

  std::stop_source stop;
  auto leader = kv.Watch("leader", stop.get_token());       // its value now, then each change
  auto members = kv.WatchTree("members/", stop.get_token());  // the listing now, then per change
  if (!leader.ok() || !members.ok()) return 1;

  // Expected: the leader's value now and its 2 changes (a delete gives an
  // empty value); the empty listing now and 3 more.
  std::thread follow([&] {
    for (int i = 0; i < 3; ++i) {
      std::optional<KVPair> p = (*leader)->Next();
      if (!p.has_value()) return;
      std::printf("leader = \"%s\"\n", p->value.c_str());
    }
    for (int i = 0; i < 4; ++i) {
      std::optional<std::vector<KVPair>> l = (*members)->Next();
      if (!l.has_value()) return;
      std::string names;
      for (const KVPair& p : *l) names += " " + p.key;
      std::printf("members:%s\n", names.empty() ? " (none)" : names.c_str());
    }
  });

  kv.Put("members/a", "10.0.0.1").IgnoreError();
  kv.Put("leader", "node-2").IgnoreError();
  kv.Put("members/b", "10.0.0.2").IgnoreError();
  kv.Delete("members/a").IgnoreError();
  kv.Delete("leader").IgnoreError();
  follow.join();

  stop.request_stop();  // ends both watches: Next returns nullopt
  std::printf("after stop: %s\n", (*leader)->Next().has_value() ? "more" : "ended");
  kv.Close();
  return 0;
}
