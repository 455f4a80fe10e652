#include "tests/kvstore/linearizability_checker.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "absl/hash/hash.h"
#include "absl/strings/str_format.h"

namespace revkv::kvstore::lincheck {
namespace {

// The register of one key. Values are interned: -1 is none.
struct State {
  bool present = false;
  int32_t value = -1;
  uint64_t index = 0;  // 0: a Put's index nobody has observed yet
  uint64_t floor = 0;  // every index the key takes from now on is above this

  bool operator==(const State&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const State& s) {
    return H::combine(std::move(h), s.present, s.value, s.index, s.floor);
  }
};

struct Op {
  OpKind kind;
  Outcome outcome;
  int32_t value;       // written
  bool has_previous;
  int32_t prev_value;
  uint64_t prev_index;
  int32_t result_value;
  uint64_t result_index;
};

uint64_t Low(const State& s) { return std::max(s.index, s.floor); }

// Whether the compare of an atomic operation holds: the store compares
// indexes; an unknown index is told by value (values are unique per write).
bool Matches(const State& s, const Op& op) {
  if (s.index != 0) return s.index == op.prev_index;
  return s.value == op.prev_value && op.prev_index > s.floor;
}

// The key's index once a compare matched: an unknown one is learned.
State Learned(State s, const Op& op) {
  if (s.index == 0) s.index = op.prev_index;
  return s;
}

State Written(int32_t value, uint64_t index, uint64_t floor) {
  return State{true, value, index, index != 0 ? index : floor};
}

State Deleted(const State& s) { return State{false, -1, 0, Low(s)}; }

// Applies `op` to `s`: false when its outcome is impossible from `s`.
bool Step(const State& s, const Op& op, State* next) {
  switch (op.kind) {
    case OpKind::kGet:
      if (op.outcome == Outcome::kKeyNotFound) {
        *next = s;
        return !s.present;
      }
      if (op.outcome != Outcome::kOk || !s.present || s.value != op.result_value) return false;
      if (s.index != 0 ? s.index != op.result_index : op.result_index <= s.floor) return false;
      *next = Written(s.value, op.result_index, 0);
      return true;
    case OpKind::kPut:
      *next = Written(op.value, 0, Low(s));
      return op.outcome == Outcome::kOk;
    case OpKind::kDelete:
      *next = op.outcome == Outcome::kOk ? Deleted(s) : s;
      if (op.outcome == Outcome::kOk) return s.present;
      return op.outcome == Outcome::kKeyNotFound && !s.present;
    case OpKind::kAtomicPut:
    case OpKind::kAtomicDelete: {
      const bool del = op.kind == OpKind::kAtomicDelete;
      *next = s;
      switch (op.outcome) {
        case Outcome::kKeyExists:
          return !del && !op.has_previous && s.present;
        case Outcome::kKeyNotFound:
          return op.has_previous && !s.present;
        case Outcome::kKeyModified:
          return op.has_previous && s.present && !Matches(s, op);
        case Outcome::kOk:
          break;
      }
      if (op.has_previous ? !(s.present && Matches(s, op)) : s.present) return false;
      const State cur = op.has_previous ? Learned(s, op) : s;
      if (del) {
        *next = Deleted(cur);
        return true;
      }
      *next = Written(op.value, op.result_index, 0);
      return op.result_value == op.value && op.result_index > Low(cur);
    }
  }
  return false;
}

// The search's cache key: the set of linearized operations and the state.
struct Visit {
  std::vector<uint64_t> linearized;
  State state;
  bool operator==(const Visit&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const Visit& v) {
    return H::combine(std::move(h), v.linearized, v.state);
  }
};

// A call or return event in the time-ordered, doubly linked list the search
// lifts operations out of (and puts them back into on backtracking).
struct Node {
  int op;
  bool is_call;
  Node* match = nullptr;  // a call's return
  Node* prev = nullptr;
  Node* next = nullptr;
};

void Lift(Node* call) {
  call->prev->next = call->next;
  call->next->prev = call->prev;
  Node* ret = call->match;
  ret->prev->next = ret->next;
  if (ret->next != nullptr) ret->next->prev = ret->prev;
}

// Lift in reverse: backtracking undoes the most recent lift first.
void Unlift(Node* call) {
  Node* ret = call->match;
  ret->prev->next = ret;
  if (ret->next != nullptr) ret->next->prev = ret;
  call->prev->next = call;
  call->next->prev = call;
}

struct KeyResult {
  bool ok;
  size_t best;
  uint64_t states;
};

// Searches for a linearization of one key's operations; at[i] is op i's
// (call, ret).
KeyResult CheckKey(const std::vector<Op>& ops,
                   const std::vector<std::pair<uint64_t, uint64_t>>& at) {
  const size_t n = ops.size();
  std::vector<Node> nodes(2 * n);
  std::vector<std::pair<uint64_t, Node*>> events;
  for (size_t i = 0; i < n; ++i) {
    nodes[2 * i] = Node{int(i), true};
    nodes[2 * i + 1] = Node{int(i), false};
    nodes[2 * i].match = &nodes[2 * i + 1];
    events.emplace_back(at[i].first, &nodes[2 * i]);
    events.emplace_back(at[i].second, &nodes[2 * i + 1]);
  }
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Node head{-1, false};
  Node* tail = &head;
  for (auto& [t, node] : events) {
    tail->next = node;
    node->prev = tail;
    tail = node;
  }

  std::vector<uint64_t> linearized((n + 63) / 64, 0);
  size_t count = 0, best = 0;
  State state;
  std::unordered_set<Visit, absl::Hash<Visit>> cache;
  std::vector<std::pair<Node*, State>> stack;
  Node* entry = head.next;
  while (head.next != nullptr) {
    if (entry->is_call) {
      State next;
      const size_t op = size_t(entry->op);
      if (Step(state, ops[op], &next)) {
        std::vector<uint64_t> with = linearized;
        with[op / 64] |= uint64_t{1} << (op % 64);
        if (cache.insert(Visit{with, next}).second) {
          stack.emplace_back(entry, state);
          linearized = std::move(with);
          state = next;
          best = std::max(best, ++count);
          Lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry->next;
    } else {
      // A return whose call is not linearized yet: nothing later may go
      // first, so undo the last choice.
      if (stack.empty()) return {false, best, cache.size()};
      auto [call, prev] = stack.back();
      stack.pop_back();
      const size_t op = size_t(call->op);
      linearized[op / 64] &= ~(uint64_t{1} << (op % 64));
      --count;
      state = prev;
      Unlift(call);
      entry = call->next;
    }
  }
  return {true, best, cache.size()};
}

}  // namespace

CheckResult Check(const std::vector<Operation>& history) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) by_key[op.key].push_back(&op);
  std::unordered_map<std::string, int32_t> interned;
  auto intern = [&](const std::string& v) {
    return interned.emplace(v, int32_t(interned.size())).first->second;
  };
  CheckResult result;
  for (const auto& [key, list] : by_key) {
    std::vector<Op> ops;
    std::vector<std::pair<uint64_t, uint64_t>> at;
    for (const Operation* o : list) {
      const bool prev = o->previous.has_value();
      ops.push_back(Op{o->kind, o->outcome, intern(o->value), prev,
                       prev ? intern(o->previous->value) : -1, prev ? o->previous->index : 0,
                       intern(o->result.value), o->result.index});
      at.emplace_back(o->call, o->ret);
    }
    const KeyResult r = CheckKey(ops, at);
    result.states += r.states;
    if (!r.ok && result.linearizable) {
      result.linearizable = false;
      result.key = key;
      result.key_ops = ops.size();
      result.best_prefix = r.best;
    }
  }
  return result;
}

std::string Describe(const Operation& op) {
  static const char* const kKinds[] = {"Get", "Put", "AtomicPut", "AtomicDelete", "Delete"};
  static const char* const kOutcomes[] = {"ok", "KeyModified", "KeyNotFound", "KeyExists"};
  std::string prev = op.previous.has_value()
                         ? absl::StrFormat(" prev=(%s,%d)", op.previous->value, op.previous->index)
                         : "";
  std::string res = op.outcome == Outcome::kOk && (op.kind == OpKind::kGet ||
                                                    op.kind == OpKind::kAtomicPut)
                        ? absl::StrFormat(" -> (%s,%d)", op.result.value, op.result.index)
                        : "";
  return absl::StrFormat("[%d,%d] %s(%s%s%s)%s %s", op.call, op.ret, kKinds[int(op.kind)],
                         op.key, op.value.empty() ? "" : " " + op.value, prev, res,
                         kOutcomes[int(op.outcome)]);
}

}  // namespace revkv::kvstore::lincheck
