#include "snapshot/hashing_file.h"

#include <unistd.h>

#include <cerrno>

#include "snapshot/file_util.h"

namespace revkv::snapshot {

HashingFileBuf::HashingFileBuf(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), state_(XXH3_createState()), buf_(1 << 20) {
  XXH3_64bits_reset(state_);
  setp(buf_.data(), buf_.data() + buf_.size());
}

HashingFileBuf::~HashingFileBuf() { XXH3_freeState(state_); }

bool HashingFileBuf::WriteRaw(const char* p, size_t n) {
  if (!status_.ok()) return false;
  XXH3_64bits_update(state_, p, n);
  bytes_ += n;
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      status_ = PathError("write", path_, errno);
      return false;
    }
    p += w;
    n -= size_t(w);
  }
  return true;
}

absl::Status HashingFileBuf::Flush() {
  size_t n = size_t(pptr() - pbase());
  if (n > 0) WriteRaw(pbase(), n);
  setp(buf_.data(), buf_.data() + buf_.size());
  return status_;
}

HashingFileBuf::int_type HashingFileBuf::overflow(int_type ch) {
  if (!Flush().ok()) return traits_type::eof();
  if (ch != traits_type::eof()) {
    *pptr() = char(ch);
    pbump(1);
  }
  return traits_type::not_eof(ch);
}

std::streamsize HashingFileBuf::xsputn(const char* s, std::streamsize n) {
  if (size_t(n) >= buf_.size()) {
    if (!Flush().ok() || !WriteRaw(s, size_t(n))) return 0;
    return n;
  }
  return std::streambuf::xsputn(s, n);
}

}  // namespace revkv::snapshot
