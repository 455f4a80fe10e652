#include "server/member_store.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace revkv::server {
namespace {

std::string BucketKey(uint64_t id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[size_t(i)] = char(id >> (8 * (7 - i)));
  return k;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MemberStore>> MemberStore::Open(backend::Backend* backend) {
  std::unique_ptr<MemberStore> m(new MemberStore(backend));
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = backend->NewConcurrentReadTx();
  if (!view.ok()) return view.status();
  std::map<uint64_t, etcdserverpb::Member> loaded;
  bool any = false;
  absl::Status s = (*view)->UnsafeForEach(
      kMemberBucket, [&](std::string_view, std::string_view v) -> absl::Status {
        any = true;
        etcdserverpb::Member member;
        if (!member.ParseFromArray(v.data(), int(v.size()))) {
          return absl::DataLossError(absl::StrCat(
              "server: an entry of the members bucket does not decode (", v.size(), " bytes)"));
        }
        loaded[member.id()] = std::move(member);
        return absl::OkStatus();
      });
  // No bucket: nobody published yet.
  if (!s.ok() && !(absl::IsNotFound(s) && !any)) return s;
  util::MutexLock l(m->mu_);
  m->members_ = std::move(loaded);
  return m;
}

absl::Status MemberStore::Publish(const revkvpb::MemberAttrRequest& attr) {
  if (attr.id() == 0) return absl::InvalidArgumentError("server: a member id must be positive");
  etcdserverpb::Member member;
  member.set_id(attr.id());
  member.set_name(attr.name());
  for (const std::string& u : attr.client_urls()) member.add_clienturls(u);
  std::string value;
  member.SerializeToString(&value);
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  absl::Status s = tx.UnsafeCreateBucket(kMemberBucket);
  if (s.ok()) s = tx.UnsafePut(kMemberBucket, BucketKey(attr.id()), value);
  if (s.ok()) {
    util::MutexLock l(mu_);
    members_[attr.id()] = std::move(member);
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

}  // namespace revkv::server
