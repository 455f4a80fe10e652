#include "backend/segment.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "util/block_pool.h"

namespace revkv::backend {

std::vector<Entry>::const_iterator BucketRun::LowerBound(std::string_view key) const {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const Entry& e, std::string_view k) { return e.key < k; });
}

const Entry* BucketRun::Find(std::string_view key) const {
  if (entries.empty() || key < entries.front().key || entries.back().key < key) return nullptr;
  auto it = LowerBound(key);
  return it != entries.end() && it->key == key ? &*it : nullptr;
}

Segment::Segment(Buckets buckets, std::vector<Storage> storage)
    : buckets_(std::move(buckets)), storage_(std::move(storage)) {
  for (const auto& [name, run] : buckets_) entry_count_ += run.entries.size();
}

namespace {

Segment::Buckets::const_iterator FindBucket(const Segment::Buckets& buckets,
                                            std::string_view name) {
  return std::lower_bound(
      buckets.begin(), buckets.end(), name,
      [](const std::pair<std::string, BucketRun>& b, std::string_view n) { return b.first < n; });
}

}  // namespace

const BucketRun* Segment::Find(std::string_view bucket) const {
  // A delta touches a few buckets: equality (sizes first) beats a search.
  for (const auto& [name, run] : buckets_) {
    if (name.size() == bucket.size() && name == bucket) return &run;
  }
  return nullptr;
}

namespace {

// `newer` applied on top of `older`, for one bucket both touch.
BucketRun MergeRuns(const BucketRun& older, const BucketRun& newer) {
  if (newer.reset) return newer;
  BucketRun out;
  out.reset = older.reset;
  out.exists = newer.exists;
  out.entries.reserve(older.entries.size() + newer.entries.size());
  auto a = older.entries.begin(), b = newer.entries.begin();
  auto emit = [&](const Entry& e) {
    // Over a reset bucket nothing older is left to hide.
    if (out.reset && e.tombstone) return;
    out.entries.push_back(e);
  };
  while (a != older.entries.end() || b != newer.entries.end()) {
    if (b == newer.entries.end() || (a != older.entries.end() && a->key < b->key)) {
      emit(*a++);
    } else {
      if (a != older.entries.end() && a->key == b->key) ++a;
      emit(*b++);
    }
  }
  return out;
}

}  // namespace

std::shared_ptr<const Segment> Segment::Merge(const Segment& older, const Segment& newer) {
  Buckets out;
  out.reserve(older.buckets_.size() + newer.buckets_.size());
  auto a = older.buckets_.begin(), b = newer.buckets_.begin();
  while (a != older.buckets_.end() || b != newer.buckets_.end()) {
    if (b == newer.buckets_.end() || (a != older.buckets_.end() && a->first < b->first)) {
      out.emplace_back(a->first, a->second);
      ++a;
    } else if (a == older.buckets_.end() || b->first < a->first) {
      out.emplace_back(b->first, b->second);
      ++b;
    } else {
      out.emplace_back(a->first, MergeRuns(a->second, b->second));
      ++a;
      ++b;
    }
  }
  std::vector<Storage> storage;
  storage.reserve(older.storage_.size() + newer.storage_.size());
  storage.insert(storage.end(), older.storage_.begin(), older.storage_.end());
  storage.insert(storage.end(), newer.storage_.begin(), newer.storage_.end());
  return std::make_shared<Segment>(std::move(out), std::move(storage));
}

std::string_view Segment::Keep(std::string_view bytes) {
  if (bytes.empty()) return std::string_view();
  if (tail_ == nullptr || tail_capacity_ - tail_used_ < bytes.size()) {
    std::shared_ptr<char[]> block =
        util::BlockPool::Default().TakeShared(bytes.size(), &tail_capacity_);
    tail_ = block.get();
    tail_used_ = 0;
    storage_.push_back(std::move(block));
  }
  char* p = tail_ + tail_used_;
  std::memcpy(p, bytes.data(), bytes.size());
  tail_used_ += bytes.size();
  return std::string_view(p, bytes.size());
}

bool Segment::TryAbsorb(const Buckets& delta) {
  // Check everything first: a refusal must leave this segment unchanged.
  for (const auto& [name, run] : delta) {
    if (run.reset) return false;
    const BucketRun* mine = Find(name);
    if (mine == nullptr || mine->entries.empty()) continue;
    std::string_view last = mine->entries.back().key;
    for (const Entry& e : run.entries) {
      if (e.key > last) break;  // sorted: every later key is greater too
      auto it = mine->LowerBound(e.key);
      if (it == mine->entries.end() || it->key != e.key) return false;
    }
  }
  for (const auto& [name, run] : delta) {
    auto found = buckets_.begin() + (FindBucket(buckets_, name) - buckets_.cbegin());
    if (found == buckets_.end() || found->first != name) {
      found = buckets_.emplace(found, name, BucketRun{});
    }
    BucketRun& mine = found->second;
    mine.exists = run.exists;
    for (const Entry& e : run.entries) {
      Entry kept{Keep(e.key), Keep(e.value), e.tombstone};
      if (mine.entries.empty() || e.key > mine.entries.back().key) {
        mine.entries.push_back(kept);
        entry_count_++;
      } else {
        auto it = std::lower_bound(mine.entries.begin(), mine.entries.end(), e.key,
                                   [](const Entry& a, std::string_view k) { return a.key < k; });
        *it = kept;  // the check above found the key
      }
    }
  }
  return true;
}

bool Segment::TryAppend(std::string_view bucket, bool exists,
                        const std::vector<Entry>& entries) {
  auto found = buckets_.begin() + (FindBucket(buckets_, bucket) - buckets_.cbegin());
  const bool known = found != buckets_.end() && found->first == bucket;
  if (known && !found->second.entries.empty() && !entries.empty() &&
      !(found->second.entries.back().key < entries.front().key)) {
    return false;
  }
  if (!known) found = buckets_.emplace(found, std::string(bucket), BucketRun{});
  BucketRun& mine = found->second;
  mine.exists = exists;
  for (const Entry& e : entries) mine.entries.push_back({Keep(e.key), Keep(e.value), e.tombstone});
  entry_count_ += entries.size();
  return true;
}

uint32_t WriteBuffer::BucketFor(std::string_view bucket) {
  for (uint32_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i].name == bucket) return i;
  }
  buckets_.push_back({std::string(bucket)});
  buckets_.back().first_op = ops_.size();
  return uint32_t(buckets_.size() - 1);
}

void WriteBuffer::Log(std::string_view bucket, std::string_view key, std::string_view value,
                      bool tombstone) {
  const uint32_t bi = BucketFor(bucket);
  BucketState& b = buckets_[bi];
  if (b.ascending && b.last_op != SIZE_MAX && b.last_op >= b.first_op &&
      !(KeyOf(bytes_.data(), ops_[b.last_op]) < key)) {
    b.ascending = false;
  }
  b.last_op = ops_.size();
  Op op{bi, tombstone, bytes_.size(), key.size(), 0, value.size()};
  if (bytes_.capacity() < 256) bytes_.reserve(std::max<size_t>(256, key.size() + value.size()));
  bytes_.append(key);
  op.value_at = bytes_.size();
  bytes_.append(value);
  ops_.push_back(op);
}

void WriteBuffer::Put(std::string_view bucket, std::string_view key, std::string_view value) {
  Log(bucket, key, value, /*tombstone=*/false);
}

void WriteBuffer::Delete(std::string_view bucket, std::string_view key) {
  Log(bucket, key, "", /*tombstone=*/true);
}

void WriteBuffer::CreateBucket(std::string_view bucket) { buckets_[BucketFor(bucket)].exists = true; }

void WriteBuffer::DeleteBucket(std::string_view bucket) {
  BucketState& b = buckets_[BucketFor(bucket)];
  b.reset = true;
  b.exists = false;
  b.first_op = ops_.size();
  b.ascending = true;
}

void WriteBuffer::Sort(const char* base, Segment::Buckets* out) {
  order_.resize(buckets_.size());
  for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(),
            [this](uint32_t a, uint32_t b) { return buckets_[a].name < buckets_[b].name; });
  out->resize(buckets_.size());
  for (size_t k = 0; k < order_.size(); ++k) {
    const uint32_t bi = order_[k];
    const BucketState& b = buckets_[bi];
    sorted_ops_.clear();
    for (size_t i = b.first_op; i < ops_.size(); ++i) {
      if (ops_[i].bucket == bi) sorted_ops_.push_back(&ops_[i]);
    }
    auto key_of = [this, base](const Op* op) { return KeyOf(base, *op); };
    if (!b.ascending) {
      // Stable: of equal keys the newest write comes last, and wins.
      std::stable_sort(sorted_ops_.begin(), sorted_ops_.end(),
                       [&key_of](const Op* x, const Op* y) { return key_of(x) < key_of(y); });
    }
    auto& [name, r] = (*out)[k];
    name.assign(b.name);
    r.reset = b.reset;
    r.exists = b.exists;
    r.entries.clear();
    r.entries.reserve(sorted_ops_.size());
    for (size_t i = 0; i < sorted_ops_.size(); ++i) {
      const Op* op = sorted_ops_[i];
      if (i + 1 < sorted_ops_.size() && key_of(sorted_ops_[i + 1]) == key_of(op)) {
        continue;  // overwritten
      }
      if (r.reset && op->tombstone) continue;  // nothing older to hide
      r.entries.push_back(
          {key_of(op), std::string_view(base + op->value_at, op->value_size), op->tombstone});
    }
  }
}

void WriteBuffer::Clear() {
  bytes_.clear();
  ops_.clear();
  buckets_.clear();
}

bool WriteBuffer::AbsorbInto(Segment* top) {
  if (buckets_.size() == 1 && buckets_[0].ascending && !buckets_[0].reset) {
    const BucketState& b = buckets_[0];
    entries_.clear();
    for (size_t i = b.first_op; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      entries_.push_back({KeyOf(bytes_.data(), op),
                          std::string_view(bytes_.data() + op.value_at, op.value_size),
                          op.tombstone});
    }
    if (top->TryAppend(b.name, b.exists, entries_)) {
      Clear();
      return true;
    }
  }
  Sort(bytes_.data(), &delta_);
  if (!top->TryAbsorb(delta_)) return false;
  Clear();  // bytes_ keeps its capacity: the next writes reuse it
  return true;
}

std::shared_ptr<const Segment> WriteBuffer::Peek() {
  Segment::Buckets out;
  Sort(bytes_.data(), &out);
  return std::make_shared<Segment>(std::move(out), std::vector<Storage>{});
}

std::shared_ptr<const Segment> WriteBuffer::Freeze() {
  auto storage = std::make_shared<std::string>(std::move(bytes_));
  Segment::Buckets out;
  Sort(storage->data(), &out);
  bytes_ = std::string();
  Clear();
  return std::make_shared<Segment>(std::move(out), std::vector<Storage>{std::move(storage)});
}

}  // namespace revkv::backend
