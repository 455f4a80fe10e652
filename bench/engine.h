// Engine: the small storage interface the benchmark workloads drive, so that
// revkv's btree and LMDB run the very same code. Both implementations commit
// durably (fsync before a commit returns) and keep keys in one named key
// space: a bucket "bench" (revkv) or a named database "bench" (LMDB).
//
// Thread-safety: Engine methods may be called from several threads at once
// (writes serialize inside the engine). A Reader belongs to one thread at a
// time; give each reading thread its own.
#ifndef REVKV_BENCH_ENGINE_H_
#define REVKV_BENCH_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace revkv::bench {

// A read transaction that can be started and ended repeatedly: Begin takes a
// snapshot of the last commit; Get and Scan read it until End.
class Reader {
 public:
  virtual ~Reader() = default;

  virtual absl::Status Begin() = 0;
  virtual void End() = 0;

  // Sets *value to a view of `key`'s value that stays valid until End.
  // NotFound when absent.
  virtual absl::Status Get(std::string_view key, std::string_view* value) = 0;
  // Walks up to `limit` entries (0: all) in key order with a cursor. Sets
  // *entries to the number visited and *bytes to their key + value bytes.
  virtual absl::Status Scan(uint64_t limit, uint64_t* entries, uint64_t* bytes) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // "revkv" or "lmdb".
  virtual std::string_view name() const = 0;
  // One line naming the engine, its version and its settings.
  virtual std::string Description() const = 0;

  // Opens (creating) the engine's files inside directory `dir`, which must
  // exist.
  virtual absl::Status Open(const std::string& dir) = 0;
  // Closes the files; every Reader must have been destroyed. Idempotent.
  virtual void Close() = 0;

  // Puts keys[i] = values[i] for every i in one write transaction and commits
  // it durably.
  virtual absl::Status PutBatch(const std::vector<std::string_view>& keys,
                                const std::vector<std::string_view>& values) = 0;

  // A reader of its own; it must be destroyed before Close.
  virtual std::unique_ptr<Reader> NewReader() = 0;

  // Size of the engine's data file in bytes.
  virtual uint64_t FileBytes() = 0;

  // Conveniences over a temporary Reader (one read transaction each).
  absl::Status Get(std::string_view key, std::string* value);
  absl::Status Scan(uint64_t limit, uint64_t* entries);
};

// The engines. Both are created closed.
std::unique_ptr<Engine> NewRevkvEngine();
std::unique_ptr<Engine> NewLmdbEngine();

}  // namespace revkv::bench

#endif  // REVKV_BENCH_ENGINE_H_
