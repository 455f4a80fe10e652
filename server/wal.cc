#include "server/wal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/crc32c.h"
#include "util/status_payload.h"

namespace revkv::server {
namespace {

constexpr size_t kHeader = 16;
constexpr size_t kSector = 512;  // a torn write leaves whole sectors unwritten

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

uint32_t RecordCrc(uint64_t index, std::string_view payload) {
  char idx[8];
  std::memcpy(idx, &index, 8);
  return util::Crc32cExtend(util::Crc32c(std::string_view(idx, 8)), payload);
}

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat("wal: ", what, ": ", std::strerror(errno)));
}

absl::Status Corrupt(const std::string& what) {
  return util::WithName(absl::DataLossError("wal: " + what), kWalErrorUrl, kWalCorrupt);
}

absl::Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open " + dir);
  const int rc = fsync(fd);
  close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync " + dir);
}

absl::StatusOr<std::string> ReadAll(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return Errno("open " + path);
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      close(fd);
      return Errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
  }
  close(fd);
  return out;
}

// True if some whole sector of bytes[from, to) is zero: the mark of a write
// the crash cut short (the sectors after the cut were never written).
bool HasZeroSector(const std::string& bytes, size_t from, size_t to) {
  to = std::min(to, bytes.size());
  for (size_t s = (from + kSector - 1) / kSector * kSector; s + kSector <= to; s += kSector) {
    if (std::all_of(bytes.begin() + s, bytes.begin() + s + kSector, [](char c) { return c == 0; })) {
      return true;
    }
  }
  return false;
}

bool ParseName(const std::string& name, uint64_t* seq, uint64_t* first) {
  if (name.size() != 16 + 1 + 16 + 4 || name.substr(33) != ".wal" || name[16] != '-') return false;
  const absl::string_view v(name);
  return absl::SimpleHexAtoi(v.substr(0, 16), seq) && absl::SimpleHexAtoi(v.substr(17, 16), first);
}

std::string SegmentName(uint64_t seq, uint64_t first) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016llx-%016llx.wal", static_cast<unsigned long long>(seq),
                static_cast<unsigned long long>(first));
  return buf;
}

}  // namespace

bool IsWalCorrupt(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kWalErrorUrl, kWalCorrupt);
}

// What a read of the log found; nothing is changed by reading.
struct Wal::Scan {
  std::vector<Segment> segments;  // oldest first
  uint64_t last = 0;              // the last index read
  uint64_t end_offset = 0;        // after the last record of the last segment
  uint64_t torn_end = 0;          // a torn tail to zero: [end_offset, torn_end)
};

absl::Status Wal::Read(const std::string& dir, uint64_t applied_index,
                       std::vector<WalEntry>* unapplied, Scan* scan) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return Errno("opendir " + dir);
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    Segment s;
    if (ParseName(name, &s.seq, &s.first_index)) {
      s.path = dir + "/" + name;
      scan->segments.push_back(s);
    }
  }
  closedir(d);
  std::sort(scan->segments.begin(), scan->segments.end(),
            [](const Segment& a, const Segment& b) { return a.seq < b.seq; });
  uint64_t& last = scan->last;
  for (size_t i = 0; i < scan->segments.size(); ++i) {
    const Segment& seg = scan->segments[i];
    const bool is_last = i + 1 == scan->segments.size();
    absl::StatusOr<std::string> bytes = ReadAll(seg.path);
    if (!bytes.ok()) return bytes.status();
    size_t off = 0;
    bool first_in_segment = true;
    while (off + kHeader <= bytes->size()) {
      const char* h = bytes->data() + off;
      const uint32_t len = Load32(h);
      const uint64_t index = Load64(h + 8);
      if (len == 0 && Load32(h + 4) == 0 && index == 0) break;  // the zeros after the log
      const size_t end = off + kHeader + Padded(len);
      const bool fits = len > 0 && end <= bytes->size();
      const std::string_view payload(bytes->data() + off + kHeader, fits ? len : 0);
      if (!fits || RecordCrc(index, payload) != Load32(h + 4)) {
        const std::string where = absl::StrCat(seg.path, " offset ", off);
        if (is_last && HasZeroSector(*bytes, off, fits ? end : bytes->size())) {
          scan->torn_end = fits ? end : bytes->size();
          break;  // a torn write: the log ends here
        }
        return Corrupt("damaged record at " + where);
      }
      if (first_in_segment && index != seg.first_index) {
        return Corrupt(absl::StrCat(seg.path, ": first entry ", index, ", named ", seg.first_index));
      }
      // Entries the backend lacks must follow each other without a gap.
      if (index > applied_index + 1 && index != last + 1) {
        return Corrupt(absl::StrCat("entry ", last + 1, " is missing (", seg.path, " offset ", off,
                                    " holds ", index, ")"));
      }
      if (index > applied_index) unapplied->push_back({index, std::string(payload)});
      last = index;
      first_in_segment = false;
      off = end;
    }
    if (is_last) scan->end_offset = off;
  }
  if (!unapplied->empty() && unapplied->front().index != applied_index + 1) {
    return Corrupt(absl::StrCat("entry ", applied_index + 1, " is missing: the log starts at ",
                                unapplied->front().index));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wal::CountUnapplied(const std::string& dir, uint64_t applied_index) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return 0;  // no log
  std::vector<WalEntry> unapplied;
  Scan scan;
  if (absl::Status s = Read(dir, applied_index, &unapplied, &scan); !s.ok()) return s;
  return uint64_t(unapplied.size());
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, uint64_t applied_index,
                                               std::vector<WalEntry>* unapplied,
                                               const WalOptions& options) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return Errno("mkdir " + dir);
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp") {
        unlink((dir + "/" + name).c_str());  // a segment never put in place
      }
    }
    closedir(d);
  }
  std::unique_ptr<Wal> w(new Wal(dir, options));
  w->spare_ = std::make_unique<SpareSegment>(dir, options.segment_bytes);
  Scan scan;
  if (absl::Status s = Read(dir, applied_index, unapplied, &scan); !s.ok()) return s;
  w->segments_ = std::move(scan.segments);
  w->last_index_ = std::max(scan.last, applied_index);
  if (w->segments_.empty() || scan.last < applied_index) {
    // A fresh log, or one the backend is ahead of: new entries go to a new
    // segment named after the next index, so none follows a gap.
    const uint64_t seq = w->segments_.empty() ? 1 : w->segments_.back().seq + 1;
    if (absl::Status s = w->NewSegment(seq, w->last_index_ + 1); !s.ok()) return s;
    if (absl::Status s = w->Release(w->last_index_); !s.ok()) return s;
    return w;
  }
  const Segment& tail = w->segments_.back();
  w->fd_ = open(tail.path.c_str(), O_RDWR);
  if (w->fd_ < 0) return Errno("open " + tail.path);
  w->offset_ = scan.end_offset;
  if (scan.torn_end > scan.end_offset) {
    // Zero the torn record, so that the records written next are followed
    // by zeros, not by its remains.
    const std::string zeros(scan.torn_end - scan.end_offset, '\0');
    if (pwrite(w->fd_, zeros.data(), zeros.size(), off_t(scan.end_offset)) !=
            ssize_t(zeros.size()) ||
        fdatasync(w->fd_) != 0) {
      return Errno("zero the torn tail of " + tail.path);
    }
  }
  return w;
}

Wal::~Wal() {
  if (fd_ >= 0) close(fd_);
}

absl::Status Wal::NewSegment(uint64_t seq, uint64_t first_index) {
  const std::string path = dir_ + "/" + SegmentName(seq, first_index);
  absl::StatusOr<SpareSegment::File> spare = spare_->Take();
  if (!spare.ok()) return spare.status();
  const int fd = spare->fd;
  if (rename(spare->path.c_str(), path.c_str()) != 0) {
    close(fd);
    return Errno("put " + path + " in place");
  }
  if (absl::Status s = SyncDir(dir_); !s.ok()) {
    close(fd);
    return s;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  offset_ = 0;
  segments_.push_back({seq, first_index, path});
  return absl::OkStatus();
}

absl::Status Wal::Append(uint64_t index, std::string_view data) {
  if (index != last_index_ + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("wal: entry ", index, " appended after ", last_index_));
  }
  const size_t size = kHeader + Padded(data.size());
  if (size > options_.segment_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("wal: an entry of ", data.size(),
                                                   " bytes does not fit a segment"));
  }
  if (offset_ + buffer_.size() + size > options_.segment_bytes) {
    // A record never spans segments; the full one is made durable first,
    // so the next never holds entries the last lacks before them.
    if (absl::Status s = Sync(); !s.ok()) return s;
    if (absl::Status s = NewSegment(segments_.back().seq + 1, index); !s.ok()) return s;
  }
  char h[kHeader];
  const uint32_t len = uint32_t(data.size());
  const uint32_t crc = RecordCrc(index, data);
  std::memcpy(h, &len, 4);
  std::memcpy(h + 4, &crc, 4);
  std::memcpy(h + 8, &index, 8);
  buffer_.append(h, kHeader);
  buffer_.append(data);
  buffer_.append(Padded(data.size()) - data.size(), '\0');
  last_index_ = index;
  return absl::OkStatus();
}

absl::Status Wal::Sync() {
  if (buffer_.empty()) return absl::OkStatus();
  for (size_t done = 0; done < buffer_.size();) {
    const ssize_t n = pwrite(fd_, buffer_.data() + done, buffer_.size() - done,
                             off_t(offset_ + done));
    if (n <= 0) return Errno("write " + segments_.back().path);
    done += size_t(n);
  }
  if (fdatasync(fd_) != 0) return Errno("fdatasync " + segments_.back().path);
  offset_ += buffer_.size();
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status Wal::Release(uint64_t index) {
  size_t drop = 0;
  while (drop + 1 < segments_.size() && segments_[drop + 1].first_index <= index + 1) ++drop;
  if (drop == 0) return absl::OkStatus();
  for (size_t i = 0; i < drop; ++i) {
    if (unlink(segments_[i].path.c_str()) != 0 && errno != ENOENT) {
      return Errno("remove " + segments_[i].path);
    }
  }
  segments_.erase(segments_.begin(), segments_.begin() + long(drop));
  return SyncDir(dir_);
}

}  // namespace revkv::server
