#include "raft/fsm.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "raft/install_snapshot_timeout.h"
#include "server/errors.h"
#include "snapshot/file_util.h"
#include "snapshot/snapshot.h"

namespace revkv::cluster {
namespace {

// The header before the store's snapshot file in a raft snapshot.
constexpr char kMagic[8] = {'R', 'V', 'K', 'V', 'R', 'A', 'F', 'T'};
constexpr size_t kHeaderSize = 24;  // magic, raft index, content bytes

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(char(v >> (8 * i)));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

absl::Status WriteFileSynced(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return snapshot::PathError("open", path, errno);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return snapshot::PathError("write", path, err);
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return snapshot::PathError("sync", path, err);
  }
  if (::close(fd) != 0) return snapshot::PathError("close", path, errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return snapshot::PathError("open", path, errno);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return snapshot::PathError("read", path, errno);
  return s;
}

}  // namespace

std::string EncodeEntry(std::string_view request) {
  const size_t pad = 8 - request.size() % 8;  // 1..8
  std::string e(request);
  e.append(pad - 1, '\0');
  e.push_back(char(pad));
  return e;
}

absl::StatusOr<std::string_view> DecodeEntry(std::string_view entry) {
  if (entry.empty() || entry.size() % 8 != 0) {
    return absl::DataLossError(absl::StrCat("raft: an entry of ", entry.size(),
                                            " bytes is not framed (a multiple of 8)"));
  }
  const size_t pad = uint8_t(entry.back());
  if (pad < 1 || pad > 8) {
    return absl::DataLossError(absl::StrCat("raft: an entry's padding byte says ", pad));
  }
  for (size_t i = entry.size() - pad; i + 1 < entry.size(); ++i) {
    if (entry[i] != '\0') return absl::DataLossError("raft: an entry's padding is not zero");
  }
  return entry.substr(0, entry.size() - pad);
}

Fsm::Fsm(std::string dir, const revkv::Options& options)
    : dir_(std::move(dir)), options_(options) {
  fsm_.version = 1;  // synchronous snapshots; raft frees their buffers
  fsm_.data = this;
  fsm_.apply = &Fsm::ApplyCb;
  fsm_.snapshot = &Fsm::SnapshotCb;
  fsm_.restore = &Fsm::RestoreCb;
}

absl::StatusOr<std::unique_ptr<Fsm>> Fsm::Open(const std::string& dir,
                                               const revkv::Options& options) {
  std::unique_ptr<Fsm> f(new Fsm(dir, options));
  absl::StatusOr<std::unique_ptr<revkv::DB>> db = revkv::DB::Open(dir, options);
  if (!db.ok()) return db.status();
  f->db_ = *std::move(db);
  if (absl::Status s = f->OpenApplier(); !s.ok()) return s;
  return f;
}

absl::Status Fsm::OpenApplier() {
  absl::StatusOr<std::unique_ptr<server::AlarmStore>> alarms =
      server::AlarmStore::Open(db_->backend());
  if (!alarms.ok()) return alarms.status();
  absl::StatusOr<std::unique_ptr<server::MemberStore>> members =
      server::MemberStore::Open(db_->backend());
  if (!members.ok()) return members.status();
  alarms_ = *std::move(alarms);
  members_ = *std::move(members);
  applier_ = std::make_unique<server::Applier>(db_.get(), alarms_.get(), members_.get());
  return absl::OkStatus();
}

Fsm::~Fsm() {
  applier_.reset();
  if (db_ != nullptr) db_->Close().IgnoreError();
}

uint64_t Fsm::applied_index() const {
  return applier_ != nullptr ? applier_->applied_index() : 0;
}

absl::StatusOr<server::ApplyResult> Fsm::TakeResult(void* result) {
  if (result == nullptr) return absl::InternalError("raft: an entry applied without a result");
  return std::move(static_cast<Result*>(result)->value);
}

int Fsm::ApplyCb(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  return static_cast<Fsm*>(fsm->data)->Apply(buf, result);
}

int Fsm::Apply(const raft_buffer* buf, void** result) {
  *result = nullptr;
  if (!failed_.ok() || applier_ == nullptr) return RAFT_IOERR;
  if (raft_ == nullptr) {
    Fail(absl::FailedPreconditionError("raft: the fsm is not attached to a raft instance"));
    return RAFT_IOERR;
  }
  // raft 0.15 raises last_applied after apply returns (see the header).
  const uint64_t index = raft_->last_applied + 1;
  if (index <= applier_->applied_index()) {
    // The DB has it (it was ahead of raft's snapshot at restart).
    ++skipped_;
    last_.value = absl::FailedPreconditionError(
        absl::StrCat("raft: entry ", index, " is already applied"));
    *result = &last_;
    if (!awaited_.empty()) Settle(index, {});
    return 0;
  }
  absl::StatusOr<std::string_view> request =
      DecodeEntry(std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!request.ok()) {
    Fail(request.status());
    return RAFT_MALFORMED;
  }
  last_.value = applier_->Apply(index, *request);
  // An entry that does not decode answers DataLoss; so does etcd's
  // "corrupt cluster", a CORRUPT alarm's answer to a write, which is applied
  // (as a refusal) like any other answer.
  if (!last_.value.ok() && last_.value.status().code() == absl::StatusCode::kDataLoss &&
      !server::IsEtcdError(last_.value.status(), "corrupt")) {
    // Not applied (it does not decode): every member stops here alike.
    Fail(last_.value.status());
    return RAFT_MALFORMED;
  }
  // The data file could not be written (a commit failed: the store refuses
  // every read and write from here on). The entry is safe in raft's log,
  // which a restart replays from the DB's last durable index; this member
  // stops here, as etcd stops when its backend cannot commit.
  if (absl::Status c = db_->backend()->batch_tx().CommitError(); !c.ok()) {
    Fail(absl::Status(c.code(), absl::StrCat("raft: the data file cannot be written: ", c.message())));
    return RAFT_IOERR;
  }
  *result = &last_;
  if (on_applied_) on_applied_(index);
  if (!awaited_.empty()) {
    Settle(index, std::string_view(static_cast<const char*>(buf->base), buf->len));
  }
  return 0;
}

void Fsm::Fail(absl::Status why) {
  if (!failed_.ok()) return;
  failed_ = std::move(why);
  if (on_failed_) on_failed_(failed_);
}

void Fsm::Await(uint64_t index, std::string_view entry, const void* token, Answer answer) {
  awaited_.insert_or_assign(index, Awaited{entry, token, std::move(answer)});
}

void Fsm::Cancel(uint64_t index, const void* token, absl::Status why) {
  auto it = awaited_.find(index);
  if (it == awaited_.end() || it->second.token != token) return;
  Answer answer = std::move(it->second.answer);
  awaited_.erase(it);
  std::move(answer)(std::move(why));
}

void Fsm::AbandonAwaited(const absl::Status& why) {
  std::map<uint64_t, Awaited> left;
  left.swap(awaited_);
  for (auto& [index, a] : left) std::move(a.answer)(why);
}

void Fsm::Settle(uint64_t index, std::string_view entry) {
  while (!awaited_.empty() && awaited_.begin()->first <= index) {
    auto it = awaited_.begin();
    Awaited a = std::move(it->second);
    const bool mine = it->first == index && !entry.empty() && a.entry == entry;
    awaited_.erase(it);
    // The result moves to its proposer; raft's callback for a batch's
    // first entry does not read it (RaftProposer).
    std::move(a.answer)(mine ? std::move(last_.value) : server::ErrLeaderChanged());
    if (mine) last_.value = absl::UnknownError("raft: result taken by its proposer");
  }
}

int Fsm::SnapshotCb(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
  Fsm* f = static_cast<Fsm*>(fsm->data);
  if (!f->failed_.ok() || f->db_ == nullptr || f->raft_ == nullptr) return RAFT_IOERR;
  // raft takes the snapshot at last_applied, between two applies.
  absl::StatusOr<std::string> bytes = f->SnapshotBytes(f->raft_->last_applied);
  if (!bytes.ok()) return RAFT_BUSY;  // raft retries at the next threshold
  f->SizeInstallSnapshotTimeout(bytes->size());
  auto* b = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  if (b == nullptr) return RAFT_NOMEM;
  b->len = bytes->size();
  b->base = raft_malloc(b->len);
  if (b->base == nullptr) {
    raft_free(b);
    return RAFT_NOMEM;
  }
  std::memcpy(b->base, bytes->data(), b->len);
  *bufs = b;
  *n_bufs = 1;
  return 0;
}

int Fsm::RestoreCb(raft_fsm* fsm, raft_buffer* buf) {
  Fsm* f = static_cast<Fsm*>(fsm->data);
  absl::Status s =
      f->Restore(std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!s.ok()) return RAFT_CORRUPT;  // raft frees the buffer
  raft_free(buf->base);  // ours on success (raft 0.15 snapshotRestore)
  return 0;
}

void Fsm::SizeInstallSnapshotTimeout(uint64_t snapshot_bytes) {
  if (raft_ == nullptr) return;
  raft_set_install_snapshot_timeout(
      raft_, InstallSnapshotTimeoutMs(raft_->election_timeout, snapshot_bytes));
}

absl::StatusOr<std::string> Fsm::SnapshotBytes(uint64_t index) {
  if (db_ == nullptr) return absl::FailedPreconditionError("raft: no DB");
  const std::string path = dir_ + "/raft-snapshot.part";
  if (absl::Status s = snapshot::Save(db_->store(), path); !s.ok()) return s;
  absl::StatusOr<std::string> content = ReadFile(path);
  ::unlink(path.c_str());
  if (!content.ok()) return content.status();
  std::string out(kMagic, sizeof(kMagic));
  PutU64(&out, index);
  PutU64(&out, content->size());
  out += *content;
  return out;
}

absl::Status Fsm::Restore(std::string_view bytes) {
  if (!failed_.ok()) return failed_;
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("raft: a snapshot without revkv's header");
  }
  const uint64_t index = GetU64(bytes.data() + 8);
  const uint64_t size = GetU64(bytes.data() + 16);
  if (size != bytes.size() - kHeaderSize) {
    return absl::DataLossError(absl::StrCat("raft: snapshot content of ", bytes.size() - kHeaderSize,
                                            " bytes, its header says ", size));
  }
  // Raft restores its latest snapshot at every start: it is what this
  // member sends as a leader, until it takes the next.
  SizeInstallSnapshotTimeout(bytes.size());
  if (!awaited_.empty()) Settle(index, {});
  if (index <= applied_index()) return absl::OkStatus();  // the DB has it

  // Verify into a scratch directory first: a bad snapshot leaves the DB be.
  const std::string file = dir_ + "/raft-restore.snap";
  const std::string scratch = dir_ + "/raft-restore";
  snapshot::RemoveAll(scratch);
  absl::Status s = WriteFileSynced(file, bytes.substr(kHeaderSize));
  if (s.ok()) s = snapshot::Restore(file, scratch);
  ::unlink(file.c_str());
  if (!s.ok()) {
    snapshot::RemoveAll(scratch);
    return s;
  }
  if (on_restore_ && raft_ != nullptr && raft_state(raft_) != RAFT_UNAVAILABLE) on_restore_();
  // In place, as etcd applies a snapshot: the server holds this DB, its
  // stores and its applier, and goes on serving from the new data.
  absl::Status s2 = db_->InstallSnapshot(revkv::DataFilePath(scratch));
  snapshot::RemoveAll(scratch);
  if (s2.ok()) s2 = alarms_->Reload();
  if (s2.ok()) s2 = members_->Reload();
  if (!s2.ok()) {
    // Past the rename the DB has failed; before it nothing changed, but
    // raft counts this snapshot as applied: the member is behind for good.
    Fail(s2);
    return s2;
  }
  applier_->Reload();
  ++restores_;
  if (on_applied_) on_applied_(applier_->applied_index());
  return absl::OkStatus();
}

}  // namespace revkv::cluster
