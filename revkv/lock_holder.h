// Who holds a file's flock, for an error message a user can act on.
//
// Thread-safety: pure functions (they read /proc).
#ifndef REVKV_REVKV_LOCK_HOLDER_H_
#define REVKV_REVKV_LOCK_HOLDER_H_

#include <string>
#include <string_view>

namespace revkv {

// "process 1234 (revkv)" for the first process /proc/locks lists as holding
// a flock on `path` ("this process" when it is the caller), or "" when
// /proc does not say.
std::string DescribeLockHolder(const std::string& path);

// Parses /proc/locks' text: the pid of the first granted FLOCK on the file
// whose device is `major`:`minor` and inode `inode`, or 0.
int FindFlockHolder(std::string_view proc_locks, unsigned major, unsigned minor,
                    unsigned long inode);

}  // namespace revkv

#endif  // REVKV_REVKV_LOCK_HOLDER_H_
