// Test helper: the certificates the TLS tests use, made at test time with
// the openssl command (tools/setup.sh installs it): ca.crt signs
// server.crt (for 127.0.0.1 and localhost, serverAuth) and client.crt
// (clientAuth); other-ca.crt signs other-client.crt, which a server that
// trusts ca.crt must refuse. Each NAME.crt has its NAME.key.
//
// Thread-safety: MakeTestCertificates may be called from several threads
// on different directories.
#ifndef REVKV_TESTS_SERVER_TEST_CERTIFICATES_H_
#define REVKV_TESTS_SERVER_TEST_CERTIFICATES_H_

#include <string>

namespace revkv::testing {

// Writes the certificates and keys into the directory `dir`; "" on
// success, else what failed.
std::string MakeTestCertificates(const std::string& dir);

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_TEST_CERTIFICATES_H_
