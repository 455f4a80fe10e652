// Test helpers for tests/raft: random write requests over a small key space,
// and a plain reference model (a std::map and a revision counter) that
// applies them with etcd 3.4's semantics, independently of revkv's applier.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_RAFT_MODEL_H_
#define REVKV_TESTS_RAFT_MODEL_H_

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "server/proto/raft_internal.pb.h"

namespace revkv::cluster::testing {

inline std::string Key(int i) {
  char b[8];
  std::snprintf(b, sizeof(b), "k%02d", i);
  return b;
}

// A put, a single-key delete, a range delete or a txn (compare a value,
// then puts and a delete on distinct keys), over kKeys keys and few values
// (so compares succeed now and then).
inline revkvpb::InternalRequest RandomRequest(std::mt19937_64& rng) {
  constexpr int kKeys = 40;
  auto key = [&] { return Key(int(rng() % kKeys)); };
  auto value = [&] { return "v" + std::to_string(rng() % 5); };
  revkvpb::InternalRequest req;
  const int kind = int(rng() % 10);
  if (kind < 5) {
    auto* p = req.mutable_put();
    p->set_key(key());
    p->set_value(value());
  } else if (kind < 7) {
    auto* d = req.mutable_delete_range();
    d->set_key(key());
    if (kind == 6) {
      std::string a = key(), b = key();
      if (b < a) std::swap(a, b);
      d->set_key(a);
      d->set_range_end(b);  // [a, b): empty when a == b
    }
  } else {
    auto* t = req.mutable_txn();
    int k[3];
    k[0] = int(rng() % kKeys);
    do k[1] = int(rng() % kKeys); while (k[1] == k[0]);
    do k[2] = int(rng() % kKeys); while (k[2] == k[0] || k[2] == k[1]);
    auto* c = t->add_compare();
    c->set_key(Key(k[0]));
    c->set_target(etcdserverpb::Compare::VALUE);
    c->set_result(etcdserverpb::Compare::EQUAL);
    c->set_value(value());
    auto* s1 = t->add_success()->mutable_request_put();
    s1->set_key(Key(k[1]));
    s1->set_value(value());
    t->add_success()->mutable_request_delete_range()->set_key(Key(k[2]));
    auto* f1 = t->add_failure()->mutable_request_put();
    f1->set_key(Key(k[2]));
    f1->set_value(value());
  }
  return req;
}

// What applying one request did to the model.
struct ModelOutcome {
  int64_t rev = 0;        // the revision after the entry
  int64_t deleted = 0;    // a delete's count
  bool succeeded = false; // a txn's compare
};

struct Model {
  std::map<std::string, std::string> kv;
  int64_t rev = 1;  // an empty store is at revision 1 (etcd)

  int64_t DeleteRange(const std::string& key, const std::string& end) {
    if (end.empty()) return int64_t(kv.erase(key));
    int64_t n = 0;
    for (auto it = kv.lower_bound(key); it != kv.end() && it->first < end;) {
      it = kv.erase(it);
      ++n;
    }
    return n;
  }

  ModelOutcome Apply(const revkvpb::InternalRequest& req) {
    ModelOutcome o;
    if (req.has_put()) {
      kv[req.put().key()] = req.put().value();
      ++rev;
    } else if (req.has_delete_range()) {
      o.deleted = DeleteRange(req.delete_range().key(), req.delete_range().range_end());
      if (o.deleted > 0) ++rev;
    } else if (req.has_txn()) {
      bool ok = true;
      for (const auto& c : req.txn().compare()) {
        auto it = kv.find(c.key());
        // etcd: a value compare on a missing key is false.
        ok = ok && it != kv.end() && it->second == c.value();
      }
      o.succeeded = ok;
      bool changed = false;
      for (const auto& op : ok ? req.txn().success() : req.txn().failure()) {
        if (op.has_request_put()) {
          kv[op.request_put().key()] = op.request_put().value();
          changed = true;
        } else if (op.has_request_delete_range()) {
          changed |= DeleteRange(op.request_delete_range().key(),
                                 op.request_delete_range().range_end()) > 0;
        }
      }
      if (changed) ++rev;
    }
    o.rev = rev;
    return o;
  }
};

}  // namespace revkv::cluster::testing

#endif  // REVKV_TESTS_RAFT_MODEL_H_
