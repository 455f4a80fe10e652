#include "server/member_store.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/errors.h"

namespace revkv::server {
namespace {

constexpr std::string_view kSeededKey = "seeded";
constexpr std::string_view kRemovedPrefix = "removed";

std::string IdBytes(uint64_t id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[size_t(i)] = char(id >> (8 * (7 - i)));
  return k;
}

uint64_t IdOf(std::string_view b) {
  uint64_t id = 0;
  for (char c : b) id = (id << 8) | uint8_t(c);
  return id;
}

std::string RemovedKey(uint64_t id) { return std::string(kRemovedPrefix) + IdBytes(id); }

// One write of a change: the key, and the member to store (none: delete).
struct Write {
  std::string key;
  std::optional<etcdserverpb::Member> value;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MemberStore>> MemberStore::Open(backend::Backend* backend) {
  std::unique_ptr<MemberStore> m(new MemberStore(backend));
  if (absl::Status s = m->Reload(); !s.ok()) return s;
  return m;
}

absl::Status MemberStore::Reload() {
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = backend_->NewConcurrentReadTx();
  if (!view.ok()) return view.status();
  std::map<uint64_t, etcdserverpb::Member> loaded;
  std::set<uint64_t> removed;
  bool seeded = false;
  bool any = false;
  absl::Status s = (*view)->UnsafeForEach(
      kMemberBucket, [&](std::string_view k, std::string_view v) -> absl::Status {
        any = true;
        if (k == kSeededKey) {
          seeded = true;
          return absl::OkStatus();
        }
        if (k.size() == kRemovedPrefix.size() + 8 &&
            k.substr(0, kRemovedPrefix.size()) == kRemovedPrefix) {
          removed.insert(IdOf(k.substr(kRemovedPrefix.size())));
          return absl::OkStatus();
        }
        etcdserverpb::Member member;
        if (k.size() != 8 || !member.ParseFromArray(v.data(), int(v.size()))) {
          return absl::DataLossError(
              absl::StrCat("server: an entry of the members bucket does not decode (", k.size(),
                           "-byte key, ", v.size(), " bytes)"));
        }
        loaded[member.id()] = std::move(member);
        return absl::OkStatus();
      });
  // No bucket: nobody published yet.
  if (!s.ok() && !(absl::IsNotFound(s) && !any)) return s;
  util::MutexLock l(mu_);
  members_ = std::move(loaded);
  removed_ = std::move(removed);
  seeded_ = seeded;
  return absl::OkStatus();
}

absl::Status MemberStore::Publish(const revkvpb::MemberAttrRequest& attr) {
  if (attr.id() == 0) return absl::InvalidArgumentError("server: a member id must be positive");
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  absl::Status s = tx.UnsafeCreateBucket(kMemberBucket);
  if (s.ok()) {
    util::MutexLock l(mu_);
    if (!removed_.contains(attr.id())) {
      etcdserverpb::Member member;
      if (auto it = members_.find(attr.id()); it != members_.end()) member = it->second;
      member.set_id(attr.id());
      member.set_name(attr.name());
      member.clear_clienturls();
      for (const std::string& u : attr.client_urls()) member.add_clienturls(u);
      std::string value;
      member.SerializeToString(&value);
      s = tx.UnsafePut(kMemberBucket, IdBytes(attr.id()), value);
      if (s.ok()) members_[attr.id()] = std::move(member);
    }
  }
  tx.Unlock();
  return s;
}

absl::Status MemberStore::Check(const revkvpb::MemberChangeRequest& c) const {
  using Op = revkvpb::MemberChangeRequest;
  if (c.op() == Op::SEED) return absl::OkStatus();
  if (!seeded_) return ErrNotCapable();
  auto it = members_.find(c.id());
  if (c.op() == Op::ADD) {
    if (c.id() == 0 || c.peer_urls().empty()) return ErrMemberBadURLs();
    // Before the URLs, as etcd 3.4 (whose ids, like ours, derive from the
    // peer URLs: the same URLs again are "member ID already exist").
    if (it != members_.end() || removed_.contains(c.id())) return ErrMemberExist();
  } else if (it == members_.end()) {
    return ErrMemberNotFound();
  }
  if (c.op() == Op::ADD || c.op() == Op::UPDATE) {
    for (const auto& [id, m] : members_) {
      if (c.op() == Op::UPDATE && id == c.id()) continue;
      for (const std::string& u : m.peerurls()) {
        for (const std::string& want : c.peer_urls()) {
          if (u == want) return ErrPeerURLExist();
        }
      }
    }
  }
  if (c.op() == Op::ADD && c.is_learner()) {
    // etcd 3.4 allows one learner (maxLearners).
    for (const auto& [id, m] : members_) {
      if (m.islearner()) return ErrTooManyLearners();
    }
  }
  if (c.op() == Op::PROMOTE && !it->second.islearner()) return ErrMemberNotLearner();
  return absl::OkStatus();
}

absl::Status MemberStore::Change(const revkvpb::MemberChangeRequest& c) {
  using Op = revkvpb::MemberChangeRequest;
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  absl::Status s = tx.UnsafeCreateBucket(kMemberBucket);
  {
    util::MutexLock l(mu_);
    if (s.ok()) s = Check(c);
    std::vector<Write> writes;
    if (s.ok()) {
      switch (c.op()) {
        case Op::SEED:
          if (seeded_) break;
          for (const etcdserverpb::Member& seed : c.seed()) {
            if (removed_.contains(seed.id())) continue;
            etcdserverpb::Member m = seed;
            if (auto it = members_.find(seed.id()); it != members_.end()) {
              // Keep what it published.
              m.set_name(it->second.name());
              *m.mutable_clienturls() = it->second.clienturls();
            }
            writes.push_back({IdBytes(m.id()), std::move(m)});
          }
          writes.push_back({std::string(kSeededKey), etcdserverpb::Member()});
          break;
        case Op::ADD: {
          etcdserverpb::Member m;
          m.set_id(c.id());
          *m.mutable_peerurls() = c.peer_urls();
          m.set_islearner(c.is_learner());
          writes.push_back({IdBytes(m.id()), std::move(m)});
          break;
        }
        case Op::REMOVE:
          writes.push_back({IdBytes(c.id()), std::nullopt});
          writes.push_back({RemovedKey(c.id()), etcdserverpb::Member()});
          break;
        case Op::PROMOTE: {
          etcdserverpb::Member m = members_[c.id()];
          m.set_islearner(false);
          writes.push_back({IdBytes(m.id()), std::move(m)});
          break;
        }
        case Op::UPDATE: {
          etcdserverpb::Member m = members_[c.id()];
          *m.mutable_peerurls() = c.peer_urls();
          writes.push_back({IdBytes(m.id()), std::move(m)});
          break;
        }
        default:
          s = absl::InvalidArgumentError(
              absl::StrCat("server: unknown membership change ", c.op()));
      }
    }
    for (const Write& w : writes) {
      if (!s.ok()) break;
      if (!w.value.has_value()) {
        s = tx.UnsafeDelete(kMemberBucket, w.key);
      } else if (w.key.size() == 8) {
        std::string value;
        w.value->SerializeToString(&value);
        s = tx.UnsafePut(kMemberBucket, w.key, value);
      } else {
        s = tx.UnsafePut(kMemberBucket, w.key, "");
      }
    }
    // The table follows what was written (a failed write fails the entry's
    // apply; the backend then fails closed).
    if (s.ok()) {
      for (Write& w : writes) {
        if (w.key == kSeededKey) {
          seeded_ = true;
        } else if (w.key.size() != 8) {
          removed_.insert(IdOf(std::string_view(w.key).substr(kRemovedPrefix.size())));
        } else if (!w.value.has_value()) {
          members_.erase(IdOf(w.key));
        } else {
          members_[IdOf(w.key)] = std::move(*w.value);
        }
      }
    }
  }
  tx.Unlock();
  return s;
}

std::optional<etcdserverpb::Member> MemberStore::Get(uint64_t id) const {
  util::MutexLock l(mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  return it->second;
}

std::map<uint64_t, etcdserverpb::Member> MemberStore::All() const {
  util::MutexLock l(mu_);
  return members_;
}

bool MemberStore::seeded() const {
  util::MutexLock l(mu_);
  return seeded_;
}

bool MemberStore::removed(uint64_t id) const {
  util::MutexLock l(mu_);
  return removed_.contains(id);
}

}  // namespace revkv::server
