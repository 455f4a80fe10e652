// A linearizability checker for histories of libkv Store calls (Wing & Gong's
// search with Lowe's memoisation, as Porcupine does it).
//
// The model is one register per key: absent, or a (value, index) pair. Keys
// are independent (an operation touches one key), and linearizability is
// local, so a history is linearizable exactly when each key's sub-history is;
// Check searches key by key.
//
// A Put's index is not returned to the caller, so the model holds it as
// unknown until an operation observes it (a Get, or a compare that matches
// it); from then on that search path holds it fixed. Every write's index is
// above the key's previous one, as mvcc revisions increase. Writers must use
// values that are unique per write: the checker tells writes apart by value
// where their index is unknown.
//
// Thread-safety: pure functions.
#ifndef REVKV_TESTS_KVSTORE_LINEARIZABILITY_CHECKER_H_
#define REVKV_TESTS_KVSTORE_LINEARIZABILITY_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace revkv::kvstore::lincheck {

enum class OpKind { kGet, kPut, kAtomicPut, kAtomicDelete, kDelete };

// What a call returned: OK, or the libkv error it failed with.
enum class Outcome { kOk, kKeyModified, kKeyNotFound, kKeyExists };

struct Pair {
  std::string value;
  uint64_t index = 0;  // 0: unknown
};

struct Operation {
  std::string key;
  OpKind kind = OpKind::kGet;
  std::string value;             // Put, AtomicPut: the value written
  std::optional<Pair> previous;  // AtomicPut (none: create), AtomicDelete
  Outcome outcome = Outcome::kOk;
  Pair result;                   // OK Get: the pair read; OK AtomicPut: the pair written
  // Invocation and response on one clock shared by all threads; call < ret.
  // An operation precedes another when its ret is below the other's call.
  uint64_t call = 0;
  uint64_t ret = 0;
};

struct CheckResult {
  bool linearizable = true;
  std::string key;          // the first key whose history is not linearizable
  size_t key_ops = 0;       // its operations
  size_t best_prefix = 0;   // the most of them any search path linearized
  uint64_t states = 0;      // (linearized set, model state) pairs visited, all keys
};

CheckResult Check(const std::vector<Operation>& history);

// One line per operation, for failure messages.
std::string Describe(const Operation& op);

}  // namespace revkv::kvstore::lincheck

#endif  // REVKV_TESTS_KVSTORE_LINEARIZABILITY_CHECKER_H_
