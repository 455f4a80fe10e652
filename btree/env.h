// File-system interface of the btree, after LevelDB's Env: every byte the
// btree reads or writes goes through it, so tests can substitute a file layer
// that fails a chosen operation or stops persisting (see FaultEnv).
//
// Thread-safety: Env and File implementations must be safe for concurrent use
// (pread/pwrite semantics); Mapping is immutable after creation.
#ifndef REVKV_BTREE_ENV_H_
#define REVKV_BTREE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::btree {

// The error File::Lock returns when another handle holds the lock
// (FailedPrecondition, with a payload naming it), and its test, which
// reads the code and payload, never the message.
absl::Status ErrLocked(std::string_view path);
bool IsLocked(const absl::Status& s);

// A read-only shared memory mapping of a file. It may extend past the end of
// the file (address space reserved for growth); only bytes below the file's
// size may be touched. Unmapped when the last reference goes away.
class Mapping {
 public:
  virtual ~Mapping() = default;
  virtual const char* data() const = 0;
  virtual size_t size() const = 0;
};

// An open file with positional I/O.
class File {
 public:
  virtual ~File() = default;
  // Reads exactly n bytes at offset; short reads are errors.
  virtual absl::Status ReadAt(uint64_t offset, size_t n, char* buf) = 0;
  // Writes all of data at offset.
  virtual absl::Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Writes the pieces back to back from offset. The default calls WriteAt.
  virtual absl::Status WriteAtV(uint64_t offset,
                                const std::vector<std::string_view>& pieces) {
    for (std::string_view p : pieces) {
      if (absl::Status s = WriteAt(offset, p); !s.ok()) return s;
      offset += p.size();
    }
    return absl::OkStatus();
  }
  // Makes written data durable (fdatasync).
  virtual absl::Status Sync() = 0;
  // Sets the file's size (grows with zeros or shrinks).
  virtual absl::Status Truncate(uint64_t size) = 0;
  virtual absl::StatusOr<uint64_t> Size() = 0;
  // Maps `length` bytes from offset 0 read-only and shared.
  virtual absl::StatusOr<std::shared_ptr<const Mapping>> Map(size_t length) = 0;
  // Takes an advisory lock at once or fails with FailedPrecondition (never
  // waits): exclusive for a writer, shared for read-only opens.
  virtual absl::Status Lock(bool exclusive) = 0;
};

struct OpenFileOptions {
  bool create = false;     // create the file if missing
  bool read_only = false;  // open O_RDONLY
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX implementation. Never deleted.
  static Env* Default();

  virtual absl::StatusOr<std::unique_ptr<File>> OpenFile(
      const std::string& path, const OpenFileOptions& options) = 0;
  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;
  // Gives file `from` the second name `to` (a hard link); AlreadyExists if
  // `to` exists. Unlike a rename, it never replaces a file another process
  // may have open: creating a file complete under a temporary name and
  // linking it into place publishes it whole or not at all.
  virtual absl::Status LinkFile(const std::string& from, const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // fsyncs a directory so that a rename or create in it is durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_ENV_H_
