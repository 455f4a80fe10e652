#include "backend/segment.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace revkv::backend {

std::vector<Entry>::const_iterator BucketRun::LowerBound(std::string_view key) const {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const Entry& e, std::string_view k) { return e.key < k; });
}

Segment::Segment(Buckets buckets, std::vector<Storage> storage)
    : buckets_(std::move(buckets)), storage_(std::move(storage)) {
  for (const auto& [name, run] : buckets_) entry_count_ += run.entries.size();
}

const BucketRun* Segment::Find(std::string_view bucket) const {
  auto it = buckets_.find(bucket);
  return it == buckets_.end() ? nullptr : &it->second;
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
  auto a = older.buckets_.begin(), b = newer.buckets_.begin();
  while (a != older.buckets_.end() || b != newer.buckets_.end()) {
    if (b == newer.buckets_.end() || (a != older.buckets_.end() && a->first < b->first)) {
      out.emplace_hint(out.end(), a->first, a->second);
      ++a;
    } else if (a == older.buckets_.end() || b->first < a->first) {
      out.emplace_hint(out.end(), b->first, b->second);
      ++b;
    } else {
      out.emplace_hint(out.end(), a->first, MergeRuns(a->second, b->second));
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

bool Segment::TryAbsorb(const Segment& newer) {
  // Check everything first: a refusal must leave this segment unchanged.
  for (const auto& [name, run] : newer.buckets_) {
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
  for (const auto& [name, run] : newer.buckets_) {
    auto found = buckets_.find(name);
    if (found == buckets_.end()) found = buckets_.emplace(name, BucketRun{}).first;
    BucketRun& mine = found->second;
    mine.exists = run.exists;
    for (const Entry& e : run.entries) {
      if (mine.entries.empty() || e.key > mine.entries.back().key) {
        mine.entries.push_back(e);
        entry_count_++;
      } else {
        auto it = std::lower_bound(mine.entries.begin(), mine.entries.end(), e.key,
                                   [](const Entry& a, std::string_view k) { return a.key < k; });
        *it = e;  // the check above found the key
      }
    }
  }
  storage_.insert(storage_.end(), newer.storage_.begin(), newer.storage_.end());
  return true;
}

WriteBuffer::MutableRun& WriteBuffer::RunFor(std::string_view bucket) {
  auto it = buckets_.find(bucket);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(bucket), MutableRun{}).first;
  return it->second;
}

void WriteBuffer::Put(std::string_view bucket, std::string_view key, std::string_view value) {
  auto& entries = RunFor(bucket).entries;
  // Appends (UnsafeSeqPut's pattern) hit the end hint in O(1).
  auto hint = entries.empty() || entries.rbegin()->first < key ? entries.end()
                                                                : entries.lower_bound(key);
  if (hint != entries.end() && hint->first == key) {
    hint->second = std::string(value);
  } else {
    entries.emplace_hint(hint, std::string(key), std::string(value));
  }
}

void WriteBuffer::Delete(std::string_view bucket, std::string_view key) {
  MutableRun& run = RunFor(bucket);
  auto it = run.entries.find(key);
  if (it != run.entries.end()) {
    it->second.reset();
  } else {
    run.entries.emplace(std::string(key), std::nullopt);
  }
}

void WriteBuffer::CreateBucket(std::string_view bucket) { RunFor(bucket).exists = true; }

void WriteBuffer::DeleteBucket(std::string_view bucket) {
  MutableRun& run = RunFor(bucket);
  run.reset = true;
  run.exists = false;
  run.entries.clear();
}

std::shared_ptr<const Segment> WriteBuffer::Freeze() {
  size_t bytes = 0;
  for (const auto& [name, run] : buckets_) {
    for (const auto& [key, value] : run.entries) bytes += key.size() + (value ? value->size() : 0);
  }
  auto block = std::make_shared<std::string>();
  block->resize(bytes);
  char* p = block->data();
  auto copy = [&p](std::string_view from) {
    std::memcpy(p, from.data(), from.size());
    std::string_view view(p, from.size());
    p += from.size();
    return view;
  };
  Segment::Buckets out;
  for (auto& [name, run] : buckets_) {
    BucketRun r;
    r.reset = run.reset;
    r.exists = run.exists;
    r.entries.reserve(run.entries.size());
    for (auto& [key, value] : run.entries) {
      if (r.reset && !value.has_value()) continue;  // nothing older to hide
      Entry e;
      e.key = copy(key);
      e.tombstone = !value.has_value();
      if (value.has_value()) e.value = copy(*value);
      r.entries.push_back(e);
    }
    out.emplace_hint(out.end(), name, std::move(r));
  }
  buckets_.clear();
  return std::make_shared<Segment>(std::move(out), std::vector<Storage>{std::move(block)});
}

}  // namespace revkv::backend
