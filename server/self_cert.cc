#include "server/self_cert.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace revkv::server {
namespace {

constexpr long kValiditySeconds = 365L * 24 * 60 * 60;  // etcd: one year

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* p) const { Free(p); }
};
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Freer<X509, X509_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Freer<X509_EXTENSION, X509_EXTENSION_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, Freer<GENERAL_NAME, GENERAL_NAME_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Freer<GENERAL_NAMES, GENERAL_NAMES_free>>;

// `what` failed in OpenSSL, with the reason from its error queue (which it
// empties, so that the next failure reports its own).
absl::Status OpensslError(const std::string& what) {
  char reason[256] = "unknown reason";
  if (unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, reason, sizeof(reason));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat("auto TLS: ", what, ": ", reason));
}

absl::Status Errno(const std::string& what) {
  return absl::ErrnoToStatus(errno, absl::StrCat("auto TLS: ", what));
}

// Never prompts for a passphrase on the terminal: an encrypted key is
// unusable here.
int NoPassphrase(char*, int, int, void*) { return -1; }

absl::Status MakeDirs(const std::string& dir) {
  for (size_t end = dir.find('/', 1);; end = dir.find('/', end + 1)) {
    const std::string prefix = dir.substr(0, end);
    if (!prefix.empty() && ::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return Errno("mkdir " + prefix);
    }
    if (end == std::string::npos) return absl::OkStatus();
  }
}

absl::StatusOr<bool> Exists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return Errno("stat " + path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) text.append(buf, size_t(n));
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) return absl::ErrnoToStatus(read_errno, "auto TLS: read " + path);
  return text;
}

// `text` in a new file `path` (replacing a leftover one), synced.
absl::Status WriteSynced(const std::string& path, const std::string& text, mode_t mode) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create " + path);
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = Errno("write " + path);
      ::close(fd);
      return s;
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = Errno("fsync " + path);
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return Errno("close " + path);
  return absl::OkStatus();
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, size_t(n));
}

// Both existing files must be a PEM certificate and its PEM key.
absl::Status CheckExisting(const SelfCert& c) {
  const std::string advice =
      absl::StrCat(" (remove ", c.cert_path, " and ", c.key_path, " to have new ones made)");
  Bio cert_bio(BIO_new_mem_buf(c.cert_pem.data(), int(c.cert_pem.size())));
  Bio key_bio(BIO_new_mem_buf(c.key_pem.data(), int(c.key_pem.size())));
  if (cert_bio == nullptr || key_bio == nullptr) return OpensslError("BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase, nullptr));
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat("auto TLS: ", c.cert_path, " is not a PEM certificate", advice));
  }
  Pkey key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat("auto TLS: ", c.key_path, " is not an unencrypted PEM private key", advice));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(absl::StrCat(
        "auto TLS: ", c.key_path, " is not the private key of ", c.cert_path, advice));
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpensslError(absl::StrCat("extension ", value));
  }
  return absl::OkStatus();
}

// The subjectAltName: built from structures, not from an OpenSSL config
// string, so that no host text is parsed as config syntax.
absl::Status AddSubjectAltNames(X509* cert, const std::vector<std::string>& hosts) {
  GeneralNames names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpensslError("sk_GENERAL_NAME_new_null");
  std::set<std::string> seen;  // two URLs on one host: one name
  for (const std::string& host : hosts) {
    if (!seen.insert(host).second) continue;
    for (char ch : host) {
      // IA5String, and no spaces or controls: what a host name can hold.
      if (ch <= ' ' || ch > '~') {
        return absl::InvalidArgumentError(
            absl::StrCat("auto TLS: host \"", host, "\" cannot be a certificate name"));
      }
    }
    if (host.empty()) return absl::InvalidArgumentError("auto TLS: empty host name");
    GeneralName name(GENERAL_NAME_new());
    if (name == nullptr) return OpensslError("GENERAL_NAME_new");
    if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str()); ip != nullptr) {
      GENERAL_NAME_set0_value(name.get(), GEN_IPADD, ip);
    } else {
      ERR_clear_error();
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      if (dns == nullptr || ASN1_STRING_set(dns, host.data(), int(host.size())) != 1) {
        ASN1_IA5STRING_free(dns);
        return OpensslError("DNS name " + host);
      }
      GENERAL_NAME_set0_value(name.get(), GEN_DNS, dns);
    }
    if (sk_GENERAL_NAME_push(names.get(), name.get()) == 0) return OpensslError("SAN list");
    name.release();  // owned by `names` now
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpensslError("subjectAltName");
  }
  return absl::OkStatus();
}

// A new key and self-signed certificate, as PEM texts in `c`.
absl::Status Generate(const std::vector<std::string>& hosts, SelfCert* c) {
  Pkey key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpensslError("generating the P-256 key");
  X509Ptr cert(X509_new());
  Bignum serial(BN_new());
  if (cert == nullptr || serial == nullptr) return OpensslError("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpensslError("X509_set_version");
  // Go's rand.Int(2^128); zero would not be a valid serial (RFC 5280).
  do {
    if (BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return OpensslError("random serial");
    }
  } while (BN_is_zero(serial.get()));
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpensslError("serial");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr) {
    return OpensslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("etcd"), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return OpensslError("subject");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return OpensslError("X509_set_pubkey");
  for (auto [nid, value] : {std::pair{NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                            std::pair{NID_ext_key_usage, "serverAuth,clientAuth"},
                            std::pair{NID_basic_constraints, "critical,CA:FALSE"}}) {
    if (absl::Status s = AddExtension(cert.get(), nid, value); !s.ok()) return s;
  }
  if (!hosts.empty()) {
    if (absl::Status s = AddSubjectAltNames(cert.get(), hosts); !s.ok()) return s;
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return OpensslError("signing");
  Bio cert_out(BIO_new(BIO_s_mem()));
  Bio key_out(BIO_new(BIO_s_mem()));
  if (cert_out == nullptr || key_out == nullptr || PEM_write_bio_X509(cert_out.get(), cert.get()) != 1 ||
      // "EC PRIVATE KEY", as etcd writes it (x509.MarshalECPrivateKey).
      PEM_write_bio_PrivateKey_traditional(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                           nullptr) != 1) {
    return OpensslError("PEM encoding");
  }
  c->cert_pem = BioText(cert_out.get());
  c->key_pem = BioText(key_out.get());
  return absl::OkStatus();
}

// Writes the pair. The certificate is removed first and renamed into place
// last: whatever a crash leaves, a cert.pem next to a key.pem is its own.
absl::Status WritePair(const std::string& dir, const SelfCert& c) {
  const std::string key_tmp = c.key_path + ".tmp";
  const std::string cert_tmp = c.cert_path + ".tmp";
  if (absl::Status s = WriteSynced(key_tmp, c.key_pem, 0600); !s.ok()) return s;
  if (absl::Status s = WriteSynced(cert_tmp, c.cert_pem, 0644); !s.ok()) return s;
  if (::unlink(c.cert_path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + c.cert_path);
  if (::rename(key_tmp.c_str(), c.key_path.c_str()) != 0) return Errno("rename " + key_tmp);
  if (::rename(cert_tmp.c_str(), c.cert_path.c_str()) != 0) return Errno("rename " + cert_tmp);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("open " + dir);
  const int synced = ::fsync(dfd);
  ::close(dfd);
  if (synced != 0) return Errno("fsync " + dir);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SelfCert> LoadOrCreateSelfCert(const std::string& dir,
                                              const std::vector<std::string>& hosts) {
  if (dir.empty()) return absl::InvalidArgumentError("auto TLS: no directory for the certificate");
  SelfCert c;
  c.cert_path = dir + "/cert.pem";
  c.key_path = dir + "/key.pem";
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  absl::StatusOr<bool> have_cert = Exists(c.cert_path);
  if (!have_cert.ok()) return have_cert.status();
  absl::StatusOr<bool> have_key = Exists(c.key_path);
  if (!have_key.ok()) return have_key.status();
  if (*have_cert && *have_key) {
    absl::StatusOr<std::string> cert = ReadFile(c.cert_path);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(c.key_path);
    if (!key.ok()) return key.status();
    c.cert_pem = *std::move(cert);
    c.key_pem = *std::move(key);
    if (absl::Status s = CheckExisting(c); !s.ok()) return s;
    return c;
  }
  if (absl::Status s = Generate(hosts, &c); !s.ok()) return s;
  if (absl::Status s = WritePair(dir, c); !s.ok()) return s;
  c.created = true;
  return c;
}

}  // namespace revkv::server
