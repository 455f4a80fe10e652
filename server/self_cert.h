// etcd's --auto-tls certificate (transport.SelfCert): a self-signed server
// certificate and its key, kept as cert.pem and key.pem in a directory
// (revkv serve: <data-dir>/fixtures/client) and reused from there, so that
// a restart serves the same certificate and clients that trust it
// (etcdctl --cacert <dir>/cert.pem) keep working.
//
// What is made: an ECDSA key, a random 128-bit serial, Subject and Issuer
// O=etcd, valid from now for 365 days, KeyUsage (critical)
// DigitalSignature|KeyEncipherment, ExtKeyUsage ServerAuth and ClientAuth,
// BasicConstraints (critical) CA:FALSE, and each host as an IP SAN if it is
// an IPv4/IPv6 literal, else a DNS SAN. The key is written as
// "EC PRIVATE KEY" PEM, mode 0600; the certificate 0644; directories made
// here 0700 -- all as etcd does. etcd 3.4.23 uses P-521 with SHA-512 and
// ServerAuth alone; revkv uses P-256 with SHA-256, which every TLS stack
// verifies (BoringSSL-based clients do not offer P-521 signatures), and
// adds ClientAuth; clients that skip verification or trust the file see no
// difference.
//
// Reuse, as etcd: when both files exist they are used as they are (hosts
// and expiry are not checked: a changed listen URL keeps the old SANs;
// remove the files to get new ones). Unlike etcd, which notices only when
// its listener loads them, they are checked here: a file that does not
// parse, or a key that is not the certificate's, is a FailedPrecondition
// error naming the file -- never silently replaced, since clients may
// trust the old certificate. When only one exists both are made anew
// (etcd does the same).
//
// Thread-safety: one caller per directory at a time (revkv serve holds its
// data directory's lock); files are written to temporaries and renamed,
// key first, so a crash leaves no certificate whose key is missing.
#ifndef REVKV_SERVER_SELF_CERT_H_
#define REVKV_SERVER_SELF_CERT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace revkv::server {

struct SelfCert {
  std::string cert_path;  // <dir>/cert.pem
  std::string key_path;   // <dir>/key.pem
  std::string cert_pem;
  std::string key_pem;
  bool created = false;  // false: both files existed and were reused
};

// The certificate in `dir` (made with its parent directories if missing),
// created for `hosts` (host names or IP literals, no port, no brackets)
// unless both files exist. Errors: FailedPrecondition for unusable existing
// files, the errno's code (absl::ErrnoToStatus) for I/O, Internal for
// OpenSSL failures; each message names the file or the step.
absl::StatusOr<SelfCert> LoadOrCreateSelfCert(const std::string& dir,
                                              const std::vector<std::string>& hosts);

}  // namespace revkv::server

#endif  // REVKV_SERVER_SELF_CERT_H_
