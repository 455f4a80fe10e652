#include "revkv/db.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/str_format.h"
#include "util/status_payload.h"
#include "revkv/lock_holder.h"

namespace revkv {
namespace {

constexpr char kErrorPayloadUrl[] = "revkv.db.error";

absl::Status ErrNoStore(std::string_view where) {
  return util::WithName(absl::NotFoundError(absl::StrFormat("no revkv store at %s", where)),
                        kErrorPayloadUrl, "no-store");
}

// The btree's lock error, its payload kept (btree::IsLocked still holds),
// with the holder named when /proc says who it is.
absl::Status ErrLockedAfter(const absl::Status& locked, const std::string& path,
                            std::chrono::milliseconds waited) {
  const std::string holder = DescribeLockHolder(path);
  absl::Status s(locked.code(),
                 absl::StrFormat("revkv: %s is locked by %s; gave up after waiting %d ms", path,
                                 holder.empty() ? "another handle" : holder, waited.count()));
  locked.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    s.SetPayload(url, absl::Cord(std::string(payload)));  // (a Cord copy fails to link here)
  });
  return s;
}

absl::Status MakeParentDirectory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrFormat("mkdir %s: %s", parent.string(), ec.message()));
  return absl::OkStatus();
}

// Backend::Open, retried while another handle holds the lock, until the
// deadline. flock has no timed wait; the retries back off from 1 ms to
// 50 ms (bbolt polls every 50 ms).
absl::StatusOr<std::unique_ptr<backend::Backend>> OpenWaitingForLock(
    const backend::BackendConfig& config, std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(config);
    if (b.ok() || !btree::IsLocked(b.status())) return b;
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited >= timeout) {
      return ErrLockedAfter(b.status(), config.path,
                            std::chrono::duration_cast<std::chrono::milliseconds>(waited));
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, timeout - waited));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace

std::string DataFilePath(std::string_view dir) { return std::string(dir) + "/member/snap/db"; }

bool IsNoStore(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kNotFound, kErrorPayloadUrl, "no-store");
}

bool IsLocked(const absl::Status& s) { return btree::IsLocked(s); }

absl::StatusOr<std::unique_ptr<DB>> DB::Open(std::string_view dir, const Options& options) {
  absl::StatusOr<std::unique_ptr<DB>> db = OpenPath(DataFilePath(dir), options);
  if (IsNoStore(db.status())) return ErrNoStore(dir);
  return db;
}

absl::StatusOr<std::unique_ptr<DB>> DB::OpenFile(std::string_view path, const Options& options) {
  return OpenPath(std::string(path), options);
}

absl::StatusOr<std::unique_ptr<DB>> DB::OpenPath(std::string path, const Options& options) {
  if (options.batch_interval.count() <= 0) {
    return absl::InvalidArgumentError("revkv: Options::batch_interval must be positive");
  }
  btree::Env* env = options.env != nullptr ? options.env : btree::Env::Default();
  const bool exists = env->FileExists(path);
  if (!exists && (options.read_only || !options.create_if_missing)) return ErrNoStore(path);
  if (!options.read_only) {
    if (absl::Status s = MakeParentDirectory(path); !s.ok()) return s;
  }
  backend::BackendConfig config = backend::DefaultBackendConfig();
  config.path = path;
  config.batch_interval = options.batch_interval;
  config.batch_limit = options.batch_limit;
  config.initial_mmap_size = options.initial_mmap_size;
  config.no_sync = options.no_sync;
  config.read_only = options.read_only;
  config.allow_rollback = options.allow_rollback;
  config.env = options.env;

  std::unique_ptr<DB> db(new DB());
  absl::StatusOr<std::unique_ptr<backend::Backend>> b =
      OpenWaitingForLock(config, options.lock_timeout);
  if (!b.ok()) return b.status();
  db->backend_ = *std::move(b);
  mvcc::StoreOptions store_options;
  store_options.key_order_base = options.key_order_base;
  absl::StatusOr<std::unique_ptr<mvcc::Store>> st =
      mvcc::Store::Open(db->backend_.get(), store_options);
  if (!st.ok()) return st.status();
  db->store_ = *std::move(st);
  absl::StatusOr<std::unique_ptr<lease::Lessor>> lessor =
      lease::Lessor::Open(db->store_.get(), options.lease);
  if (!lessor.ok()) return lessor.status();
  db->lessor_ = *std::move(lessor);
  // A single member is the leader from the start; a read-only DB revokes
  // nothing, so it tracks no expiry.
  if (!options.read_only) db->lessor_->Promote(std::chrono::nanoseconds(0));
  db->watch_ = mvcc::WatchableStore::Create(db->store_.get());
  if (!exists) {
    // A new store is durable, buckets and all, before Open returns.
    if (absl::Status s = db->Sync(); !s.ok()) return s;
  }
  if (!db->backend_->open_note().empty()) db->open_notes_.push_back(db->backend_->open_note());
  for (const std::string& n : db->lessor_->open_notes()) db->open_notes_.push_back(n);
  for (const absl::Status& w : db->store_->open_warnings()) {
    db->open_notes_.push_back(std::string(w.message()) +
                              " (the index was rebuilt from the key bucket)");
  }
  return db;
}

DB::~DB() { Close().IgnoreError(); }

absl::Status DB::Sync() {
  if (read_only()) return absl::OkStatus();
  return backend_->ForceCommit();
}

absl::Status DB::InstallSnapshot(const std::string& file) {
  if (closed_) return mvcc::ErrClosed();
  return store_->Reload([&] { return backend_->ReplaceFile(file); },
                        [&] { return lessor_->Reload(); });
}

absl::Status DB::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status result;
  if (watch_ != nullptr) watch_->Close();
  if (lessor_ != nullptr) lessor_->Close();
  if (store_ != nullptr) {
    result.Update(store_->WaitCompaction());
    result.Update(store_->Close());
  }
  if (backend_ != nullptr) result.Update(backend_->Close());
  // Both stay, closed: later calls answer ErrClosed rather than crash.
  return result;
}

}  // namespace revkv
