// revkv in a few lines: open a store, write, read the present and the past,
// run a transaction, make it durable. Run: bazel run //examples/quickstart
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "revkv/db.h"

int main() {
  char dir[] = "/tmp/revkv-quickstart-XXXXXX";  // a fresh directory each run
  if (mkdtemp(dir) == nullptr) return 1;

  absl::StatusOr<std::unique_ptr<revkv::DB>> opened = revkv::DB::Open(dir, {});
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  revkv::DB& db = **opened;

  // Every change gets the next revision; a fresh store is at revision 1.
  int64_t first = *db.Put("greeting", "hello");  // revision 2
  db.Put("greeting", "hello, world").IgnoreError();  // revision 3

  // Read now, and as of an older revision.
  revkv::mvcc::RangeResult now = *db.Range("greeting", "");
  revkv::mvcc::RangeResult then = *db.Range("greeting", "", {.rev = first});
  std::printf("now:  %s (revision %lld)\n", now.kvs[0].value.c_str(), (long long)now.rev);
  std::printf("then: %s (revision %lld)\n", then.kvs[0].value.c_str(), (long long)first);

  // A transaction: its changes share one revision and commit together.
  {
    std::unique_ptr<revkv::mvcc::TxnWrite> txn = *db.Write();
    txn->Put("a", "1").IgnoreError();
    txn->Put("b", "2").IgnoreError();
    if (!txn->End().ok()) return 1;
  }
  revkv::mvcc::RangeResult all = *db.Range("", std::string(1, '\0'));  // every key
  std::printf("keys: %lld at revision %lld\n", (long long)all.count, (long long)all.rev);

  // Durable from here on; Close also commits.
  if (!db.Sync().ok() || !db.Close().ok()) return 1;
  std::filesystem::remove_all(dir);
  return 0;
}
