// dkv_cluster_example: dKV's distributed store (kvstore/dkv/
// distributed_store.h) on a one-member Raft cluster -- the same IStore
// calls as the local store, with expiry and deletion counted in raft log
// index steps, so every member of a larger cluster drops a key at the same
// entry of the log.
//
//   bazel run //kvstore/examples:dkv_cluster_example [-- DIR]   (default: a fresh temporary one)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "kvstore/dkv/distributed_store.h"
#include "kvstore/examples/example_path.h"

namespace dkv = revkv::kvstore::dkv;
using dkv::Millis;

// A free loopback port for raft's TCP transport.
static int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

static void Show(dkv::DistributedStore& kv, const char* key) {
  auto got = kv.Get(key);
  auto has = kv.Has(key);
  std::printf("  %-8s Get: %-10s Has: %s\n", key,
              got->loaded ? ("\"" + got->value + "\"").c_str() : "(none)", *has ? "yes" : "no");
}

// Writes another key until the log has moved `steps` past entry `from`.
static void Pass(dkv::DistributedStore& kv, uint64_t from, uint64_t steps) {
  revkvpb::DkvRequest filler;
  filler.set_key("filler");
  while (true) {
    auto ack = kv.Write(filler);
    if (!ack.ok() || ack->index >= from + steps) return;
  }
}

int main(int argc, char** argv) {
  const ExamplePath where(argc, argv, "member");
  revkv::cluster::ClusterMemberOptions o;
  o.id = 1;
  o.name = "solo";
  o.data_dir = where.path();
  o.raft_dir = where.path() + "-raft";
  ::mkdir(o.raft_dir.c_str(), 0700);
  revkv::cluster::Peer self;
  self.id = 1;
  self.name = "solo";
  self.address = "127.0.0.1:" + std::to_string(FreePort());
  self.peer_url = "http://" + self.address;
  o.peers = {self};
  auto member = revkv::cluster::ClusterMember::Start(o, {});
  if (!member.ok()) {
    std::printf("%s\n", dkv::ErrorFromStatus(member.status()).ToString().c_str());
    return 1;
  }
  dkv::DistributedStore kv(member->get());

  kv.Set("plain", "forever").IgnoreError();
  // Expires 20 log entries after this write, is deleted 40 after it. (Log
  // entries, not writes: each linearizable read appends a barrier too.)
  revkvpb::DkvRequest req;
  req.set_key("session");
  req.set_value("token");
  req.set_expire_in(20);
  req.set_delete_in(40);
  auto ack = kv.Write(req);
  if (!ack.ok()) {
    std::printf("%s\n", dkv::ErrorFromStatus(ack.status()).ToString().c_str());
    return 1;
  }
  kv.SetEIfUnset("session", "ignored", Millis(0), Millis(0)).IgnoreError();
  std::printf("written\n");
  for (const char* k : {"plain", "session"}) Show(kv, k);

  Pass(kv, ack->index, 20);
  std::printf("20 entries later (session expired)\n");
  Show(kv, "session");

  Pass(kv, ack->index, 40);
  std::printf("40 entries later (session deleted)\n");
  Show(kv, "session");

  auto info = kv.GetDBInfo();
  std::printf("db: %s, %lld keys, %lld removed by the log\n", info->db_type.c_str(),
              (long long)info->key_count, (long long)info->swept_keys);

  kv.Close();
  std::printf("after Close: %s\n",
              dkv::ErrorFromStatus(kv.Set("plain", "x")).ToString().c_str());
  (*member)->Stop();
  return 0;
}
