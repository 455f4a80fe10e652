// The key-ordered base's upkeep (key_order_base.h): loading it at open, the
// background thread that decides when to rebuild, the rebuild round, and
// its verification against the records.
#include <algorithm>
#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

// Index entries per chunk of a round: the index's read lock is held while a
// chunk is copied, so a writer never waits long for it.
constexpr size_t kChunk = 1024;
// How often the background thread looks, and what counts as quiet.
constexpr auto kPoll = std::chrono::milliseconds(20);
constexpr int64_t kQuietRevisions = 64;
// A background round gives up once this many revisions came after it
// began: the writer is busy again, and the round would take its CPU.
constexpr int64_t kBusyRevisions = 10000;
// A round commits after this many chunks that wrote something: the pages
// its writes copy (copy-on-write) are freed by the commit and reused by the
// next chunks, so the file never holds a second copy of much of the base.
constexpr int kChunksPerCommit = 16;

// One chunk of a round: the index's keys at the round's revision, in key
// order, and what the round does to the base for them.
struct Chunk {
  std::vector<std::string> keys;
  std::vector<Revision> revs;
  std::vector<char> have;          // have[i]: the base holds keys[i] at revs[i]
  std::vector<std::string> dels;   // the base's keys among them that are gone
  std::vector<std::string> puts;   // puts[i]: the entry for keys[i] if !have[i]
};

// Scans `bucket` over [from, stop) (stop empty: to the end) and sorts its
// entries into chunk->have and chunk->dels. DataLoss on an entry that does
// not decode to its key.
absl::Status ScanBase(backend::ConcurrentReadTx& view, const std::string& bucket,
                      std::string_view from, std::string_view stop, Chunk* chunk) {
  size_t i = 0;
  absl::Status bad;
  absl::Status s = view.UnsafeScan(bucket, from, stop, [&](std::string_view k,
                                                          std::string_view v) {
    while (i < chunk->keys.size() && chunk->keys[i] < k) ++i;
    Revision r;
    std::string_view record, key;
    int64_t create, version;
    if (bad = DecodeBaseEntry(v, &r, &record); !bad.ok()) return false;
    if (bad = DecodeKeyValueHeader(record, &key, &create, &version); !bad.ok()) return false;
    if (key != k) {
      bad = absl::DataLossError(absl::StrFormat(
          "mvcc: key-ordered base entry %s holds another key's record",
          absl::CHexEscape(absl::string_view(k.data(), k.size()))));
      return false;
    }
    if (i < chunk->keys.size() && chunk->keys[i] == k) {
      chunk->have[i] = r == chunk->revs[i];
      ++i;
    } else {
      chunk->dels.emplace_back(k);
    }
    return true;
  });
  return s.ok() ? bad : s;
}

// The entries the base lacks (or holds stale), from the records; returns
// how many.
absl::StatusOr<size_t> EntriesFromRecords(backend::ConcurrentReadTx& view, Chunk* chunk) {
  std::vector<Revision> revs;
  std::vector<uint32_t> where;
  for (size_t i = 0; i < chunk->keys.size(); ++i) {
    if (!chunk->have[i]) {
      revs.push_back(chunk->revs[i]);
      where.push_back(uint32_t(i));
    }
  }
  chunk->puts.assign(chunk->keys.size(), std::string());
  absl::Status s = ReadRecordsByRevision(view, revs, [&](size_t j, std::string_view record) {
    AppendBaseEntry(revs[j], record, &chunk->puts[where[j]]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return revs.size();
}

}  // namespace

absl::Status Store::LoadBaseMeta(backend::BatchTx* tx) {
  if (!options_.key_order_base) {
    base_off_ = true;
    return absl::OkStatus();
  }
  absl::StatusOr<backend::KeyValues> kvs = tx->UnsafeRange(kMetaBucket, kBaseMetaKey, "", 0);
  if (!kvs.ok()) return kvs.status();
  if (kvs->size() == 0) return absl::OkStatus();
  absl::StatusOr<BaseMeta> meta = DecodeBaseMeta(kvs->values[0]);
  if (!meta.ok()) {
    // Derived data: the store opens without it, and no round runs (one
    // would not know which buckets are the base's).
    base_off_ = true;
    open_warnings_.push_back(meta.status());
    return absl::OkStatus();
  }
  base_gen_ = meta->gen;
  base_rev_ = meta->rev;
  util::MutexLock l(base_stats_mu_);
  base_stats_.gen = meta->gen;
  base_stats_.rev = meta->rev;
  return absl::OkStatus();
}

bool Store::Stopping() {
  util::MutexLock l(compact_mu_);
  return stop_;
}

void Store::ReportBaseDamage(const absl::Status& s) {
  base_damaged_.store(true, std::memory_order_release);
  util::MutexLock l(base_stats_mu_);
  base_stats_.damage = s;
}

KeyOrderBaseInfo Store::key_order_base() const {
  util::MutexLock l(base_stats_mu_);
  KeyOrderBaseInfo info = base_stats_;
  info.entries_served = base_served_.load(std::memory_order_relaxed);
  return info;
}

void Store::BaseLoop() {
  int64_t last = current_rev_.load(std::memory_order_acquire);
  while (true) {
    {
      util::MutexLock l(compact_mu_);
      if (stop_) return;
      compact_cv_.WaitUntil(compact_mu_, std::chrono::steady_clock::now() + kPoll);
      if (stop_) return;
    }
    const int64_t cur = current_rev_.load(std::memory_order_acquire);
    const int64_t written = cur - last;
    last = cur;
    if (written > kQuietRevisions) continue;
    const int64_t changed = cur - base_rev_.load(std::memory_order_acquire);
    const int64_t live = int64_t(index_.size());
    if (!base_damaged_.load(std::memory_order_acquire) &&
        changed < std::max(options_.base_min_changes, live / 8)) {
      continue;
    }
    absl::Status s;
    {
      util::MutexLock round(base_mu_);
      s = BaseRound(/*background=*/true);
    }
    if (IsClosed(s) || !backend_->batch_tx().CommitError().ok()) return;
  }
}

absl::Status Store::RebuildKeyOrderBase() {
  util::MutexLock round(base_mu_);
  return BaseRound(/*background=*/false);
}

absl::Status Store::BaseRound(bool background) {
  if (base_off_.load() || backend_->config().read_only) {
    return absl::FailedPreconditionError("mvcc: the key-ordered base is off");
  }
  int64_t rev, first;
  uint64_t gen_read;  // (a reload waits for base_mu_: it cannot change)
  {
    // Fixes the round's revision; each chunk reads through a view of its own
    // (taken later, so holding every write up to rev), so that no view pins
    // the pages the round's own commits free.
    absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = BeginRead(&rev, &first, &gen_read);
    if (!view.ok()) return view.status();
  }
  const uint64_t old_gen = base_gen_.load(std::memory_order_acquire);
  const bool damaged = base_damaged_.load(std::memory_order_acquire);
  // A new generation when there is none or the current one is damaged;
  // else the round merges into the current one in place.
  const bool fresh = old_gen == 0 || damaged;
  const uint64_t gen = fresh ? old_gen + 1 : old_gen;
  const std::string name = BaseBucketName(gen);
  backend::BatchTx& tx = backend_->batch_tx();
  {
    tx.Lock();
    absl::Status s;
    // A partial generation of a round a crash cut short.
    if (fresh) s = tx.UnsafeDeleteBucket(name);
    // (A merge finds the bucket missing if something dropped it: a file
    // written by a tool that copies etcd's buckets only, say.)
    if (s.ok() || absl::IsNotFound(s)) s = tx.UnsafeCreateBucket(name);
    tx.Unlock();
    if (!s.ok()) return s;
  }
  auto give_up = [&](absl::Status why) {
    if (fresh) {
      tx.Lock();
      tx.UnsafeDeleteBucket(name).IgnoreError();  // fails only if the backend did
      tx.Unlock();
    }
    util::MutexLock l(base_stats_mu_);
    base_stats_.aborted++;
    return why;
  };

  const int64_t began = current_rev_.load(std::memory_order_acquire);
  int written_chunks = 0;  // since the last commit
  std::string from;        // the next chunk's first key
  Chunk c;
  while (true) {
    if (Stopping()) return give_up(ErrClosed());
    if (background && current_rev_.load(std::memory_order_acquire) - began > kBusyRevisions) {
      return give_up(absl::AbortedError("mvcc: base round given up: writes resumed"));
    }
    if (!fresh && base_damaged_.load(std::memory_order_acquire)) {
      // A reader found damage: write no more near it (a commit that copies a
      // bad page fails); the next round writes a new generation.
      return give_up(absl::AbortedError("mvcc: base round given up: the base is damaged"));
    }
    c.keys.clear();
    c.revs.clear();
    c.dels.clear();
    index_.Range(from, "", rev, [&](std::string_view k, const KeyAt& at) {
      c.keys.emplace_back(k);
      c.revs.push_back(at.modified);
      return c.keys.size() < kChunk;
    });
    const bool last_chunk = c.keys.size() < kChunk;
    c.have.assign(c.keys.size(), 0);
    absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = NewView();
    if (!view.ok()) return give_up(view.status());
    // The base's entries up to the chunk's last key (to the end after the
    // last chunk): kept where they are the index's, deleted where their key
    // is gone, rewritten where their record is not the key's latest.
    if (!fresh) {
      std::string stop;
      if (!last_chunk) {
        stop = c.keys.back();
        stop.push_back('\0');
      }
      if (absl::Status s = ScanBase(**view, name, from, stop, &c); !s.ok()) {
        if (absl::IsDataLoss(s)) ReportBaseDamage(s);
        return give_up(s);
      }
    }
    absl::StatusOr<size_t> missing = EntriesFromRecords(**view, &c);
    // What the index said at rev holds only if no compaction passed rev.
    if (absl::Status r = CheckReadable(rev, gen_read); !r.ok()) return give_up(r);
    if (!missing.ok()) return give_up(missing.status());
    if (!c.dels.empty() || *missing > 0) {
      // Deletes and puts of a chunk in one section.
      absl::Status s;
      tx.Lock();
      for (size_t i = 0; s.ok() && i < c.dels.size(); ++i) s = tx.UnsafeDelete(name, c.dels[i]);
      for (size_t i = 0; s.ok() && i < c.keys.size(); ++i) {
        if (!c.have[i]) s = tx.UnsafePut(name, c.keys[i], c.puts[i]);
      }
      tx.Unlock();
      if (!s.ok()) return give_up(s);
      if (++written_chunks == kChunksPerCommit) {
        written_chunks = 0;
        if (absl::Status s = tx.Commit(); !s.ok()) return give_up(s);
      }
    }
    if (last_chunk) break;
    from = c.keys.back();
    from.push_back('\0');
  }

  tx.Lock();
  absl::Status s = tx.UnsafePut(kMetaBucket, kBaseMetaKey, EncodeBaseMeta({gen, rev}));
  if (s.ok() && !fresh) {
    // What a crash left of a new generation (a repair the crash cut short).
    s = tx.UnsafeDeleteBucket(BaseBucketName(gen + 1));
    if (absl::IsNotFound(s)) s = absl::OkStatus();
  }
  // A damaged generation is left in the file: dropping it would read its
  // pages, and one failing its checksum would fail the commit.
  tx.Unlock();
  if (!s.ok()) return s;
  base_gen_.store(gen, std::memory_order_release);
  base_rev_.store(rev, std::memory_order_release);
  if (damaged) base_damaged_.store(false, std::memory_order_release);
  util::MutexLock l(base_stats_mu_);
  base_stats_.gen = gen;
  base_stats_.rev = rev;
  base_stats_.rounds++;
  if (damaged) {
    base_stats_.repairs++;
    if (old_gen != 0) base_stats_.abandoned.push_back(old_gen);
  }
  return absl::OkStatus();
}

absl::Status Store::VerifyKeyOrderBase() {
  util::MutexLock round(base_mu_);  // the base does not change meanwhile
  const uint64_t gen = base_gen_.load(std::memory_order_acquire);
  if (gen == 0) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = NewView();
  if (!view.ok()) return view.status();
  absl::Status bad;
  char buf[kMarkedRevBytes];
  absl::Status s = (*view)->UnsafeScan(BaseBucketName(gen), "", "", [&](std::string_view k,
                                                                         std::string_view v) {
    Revision r;
    std::string_view record;
    if (bad = DecodeBaseEntry(v, &r, &record); !bad.ok()) return false;
    absl::StatusOr<std::string_view> truth =
        (*view)->UnsafeGet(kKeyBucket, EncodeRevisionKey(r, false, buf));
    if (absl::IsNotFound(truth.status())) return true;  // compacted since: never matches the index
    if (!truth.ok()) {
      bad = truth.status();
      return false;
    }
    std::string_view key;
    int64_t create, version;
    if (*truth != record || !DecodeKeyValueHeader(record, &key, &create, &version).ok() ||
        key != k) {
      bad = absl::DataLossError(absl::StrFormat(
          "mvcc: key-ordered base entry %s differs from the record at revision %d_%d",
          absl::CHexEscape(absl::string_view(k.data(), k.size())), r.main, r.sub));
      return false;
    }
    return true;
  });
  if (s.ok()) s = bad;
  if (!s.ok() && !IsClosed(s)) ReportBaseDamage(s);
  return s;
}

}  // namespace revkv::mvcc
