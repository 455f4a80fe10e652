#include "server/convert.h"

#include <utility>

namespace revkv::server {

etcdkv::RangeRequest FromProto(const etcdserverpb::RangeRequest& r) {
  etcdkv::RangeRequest c;
  c.key = r.key();
  c.end = r.range_end();
  c.limit = r.limit() > 0 ? r.limit() : 0;
  // etcd: a revision <= 0 reads the newest.
  c.rev = r.revision() > 0 ? r.revision() : 0;
  c.keys_only = r.keys_only();
  c.count_only = r.count_only();
  switch (r.sort_target()) {
    case etcdserverpb::RangeRequest::VERSION: c.sort_target = etcdkv::SortTarget::kVersion; break;
    case etcdserverpb::RangeRequest::CREATE: c.sort_target = etcdkv::SortTarget::kCreate; break;
    case etcdserverpb::RangeRequest::MOD: c.sort_target = etcdkv::SortTarget::kMod; break;
    case etcdserverpb::RangeRequest::VALUE: c.sort_target = etcdkv::SortTarget::kValue; break;
    default: c.sort_target = etcdkv::SortTarget::kKey; break;
  }
  switch (r.sort_order()) {
    case etcdserverpb::RangeRequest::ASCEND: c.sort_order = etcdkv::SortOrder::kAscend; break;
    case etcdserverpb::RangeRequest::DESCEND: c.sort_order = etcdkv::SortOrder::kDescend; break;
    default: c.sort_order = etcdkv::SortOrder::kNone; break;
  }
  c.min_mod_revision = r.min_mod_revision();
  c.max_mod_revision = r.max_mod_revision();
  c.min_create_revision = r.min_create_revision();
  c.max_create_revision = r.max_create_revision();
  return c;
}

etcdkv::PutRequest FromProto(const etcdserverpb::PutRequest& r) {
  etcdkv::PutRequest c;
  c.key = r.key();
  c.value = r.value();
  c.prev_kv = r.prev_kv();
  c.ignore_value = r.ignore_value();
  c.lease = r.lease();
  c.ignore_lease = r.ignore_lease();
  return c;
}

etcdkv::DeleteRequest FromProto(const etcdserverpb::DeleteRangeRequest& r) {
  etcdkv::DeleteRequest c;
  c.key = r.key();
  c.end = r.range_end();
  c.prev_kv = r.prev_kv();
  return c;
}

void ToProto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_value(kv.value);
  out->set_lease(kv.lease);
}

void ToProto(etcdkv::RangeResponse&& r, etcdserverpb::RangeResponse* out) {
  out->mutable_header()->set_revision(r.revision);
  for (const mvcc::KeyValue& kv : r.kvs) ToProto(kv, out->add_kvs());
  out->set_more(r.more);
  out->set_count(r.count);
}

void ToProto(etcdkv::PutResponse&& r, etcdserverpb::PutResponse* out) {
  out->mutable_header()->set_revision(r.revision);
  if (r.prev_kv.has_value()) ToProto(*r.prev_kv, out->mutable_prev_kv());
}

void ToProto(etcdkv::DeleteResponse&& r, etcdserverpb::DeleteRangeResponse* out) {
  out->mutable_header()->set_revision(r.revision);
  out->set_deleted(r.deleted);
  for (const mvcc::KeyValue& kv : r.prev_kvs) ToProto(kv, out->add_prev_kvs());
}

}  // namespace revkv::server
