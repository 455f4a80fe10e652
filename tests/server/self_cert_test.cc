// server/self_cert.h: the --auto-tls certificate as OpenSSL reads it back
// (self-signed, one year, the hosts' SANs, usages, key), its files and
// modes, reuse across calls, and the errors for damaged files, which are
// never replaced silently.
#include "server/self_cert.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::server {
namespace {

using ::revkv::testing::NewTempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}

struct Parsed {
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
};

Parsed Parse(const SelfCert& c) {
  Parsed p;
  BIO* b = BIO_new_mem_buf(c.cert_pem.data(), int(c.cert_pem.size()));
  p.cert.reset(PEM_read_bio_X509(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  b = BIO_new_mem_buf(c.key_pem.data(), int(c.key_pem.size()));
  p.key.reset(PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr));
  BIO_free(b);
  return p;
}

// "DNS:name" / "IP:addr" for each subjectAltName, in order.
std::vector<std::string> Sans(X509* cert) {
  std::vector<std::string> out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                         size_t(ASN1_STRING_length(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = "?";
      const int len = ASN1_STRING_length(n->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof(text));
      out.push_back("IP:" + std::string(text));
    } else {
      out.push_back("other");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Organization(const X509_NAME* name) {
  char buf[64] = "";
  X509_NAME_get_text_by_NID(name, NID_organizationName, buf, sizeof(buf));
  return buf;
}

std::string Serial(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string s = hex;
  OPENSSL_free(hex);
  BN_free(bn);
  return s;
}

// X509_V_OK if `cert` verifies as an SSL server certificate against a
// store that holds only itself.
int VerifyTrustingItself(X509* cert) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, cert);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_default(ctx, "ssl_server");
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return error == X509_V_OK && ok != 1 ? -1 : error;
}

TEST(SelfCertTest, MakesASelfSignedServerCertificateForTheHosts) {
  const std::string data = NewTempDir("selfcert") + "/data";
  ASSERT_EQ(::mkdir(data.c_str(), 0755), 0);
  const std::string dir = data + "/fixtures/client";
  absl::StatusOr<SelfCert> c =
      LoadOrCreateSelfCert(dir, {"127.0.0.1", "localhost", "::1", "db.example.test", "127.0.0.1"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->created);
  EXPECT_EQ(c->cert_path, dir + "/cert.pem");
  EXPECT_EQ(c->key_path, dir + "/key.pem");
  EXPECT_EQ(ReadAll(c->cert_path), c->cert_pem);
  EXPECT_EQ(ReadAll(c->key_path), c->key_pem);
  EXPECT_EQ(Mode(c->key_path), 0600);
  EXPECT_EQ(Mode(data + "/fixtures"), 0700);
  EXPECT_EQ(Mode(dir), 0700);
  EXPECT_EQ(Mode(data), 0755) << "an existing directory keeps its mode";
  EXPECT_EQ(Mode(c->cert_path) & 0022, 0);
  EXPECT_FALSE(Mode(dir + "/cert.pem.tmp") >= 0 || Mode(dir + "/key.pem.tmp") >= 0);
  EXPECT_EQ(c->key_pem.rfind("-----BEGIN EC PRIVATE KEY-----\n", 0), 0u) << c->key_pem;

  Parsed p = Parse(*c);
  ASSERT_NE(p.cert, nullptr);
  ASSERT_NE(p.key, nullptr);
  EXPECT_EQ(X509_check_private_key(p.cert.get(), p.key.get()), 1);
  char group[32] = "";
  EVP_PKEY_get_group_name(p.key.get(), group, sizeof(group), nullptr);
  EXPECT_STREQ(group, "prime256v1");
  // Self-signed: its own issuer, and its signature verifies with its key;
  // a client that trusts the file alone (etcdctl --cacert) accepts it as a
  // TLS server's certificate.
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(p.cert.get()), X509_get_subject_name(p.cert.get())), 0);
  EXPECT_EQ(X509_verify(p.cert.get(), X509_get0_pubkey(p.cert.get())), 1);
  EXPECT_EQ(VerifyTrustingItself(p.cert.get()), X509_V_OK);
  EXPECT_EQ(Organization(X509_get_subject_name(p.cert.get())), "etcd");
  EXPECT_EQ(Organization(X509_get_issuer_name(p.cert.get())), "etcd");
  // Valid now, for 365 days.
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(p.cert.get())), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(p.cert.get())), 0);
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(p.cert.get()),
                           X509_get0_notAfter(p.cert.get())),
            1);
  EXPECT_EQ(days, 365);
  EXPECT_EQ(seconds, 0);
  EXPECT_EQ(Sans(p.cert.get()), (std::vector<std::string>{"IP:127.0.0.1", "DNS:localhost", "IP:::1",
                                                          "DNS:db.example.test"}));
  EXPECT_EQ(X509_get_key_usage(p.cert.get()), uint32_t(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(X509_get_extended_key_usage(p.cert.get()), uint32_t(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_ca(p.cert.get()), 0) << "a leaf, not a CA";
  EXPECT_EQ(X509_check_purpose(p.cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_host(p.cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(p.cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(p.cert.get(), "127.0.0.1", 0, 0, nullptr), 0) << "an IP is no DNS name";
  // A 128-bit random serial: another certificate has another one.
  const std::string serial = Serial(p.cert.get());
  EXPECT_GT(serial.size(), 16u);
  EXPECT_LE(serial.size(), 32u);
  absl::StatusOr<SelfCert> other = LoadOrCreateSelfCert(NewTempDir("selfcert-other"), {"localhost"});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(Serial(Parse(*other).cert.get()), serial);
}

TEST(SelfCertTest, ExistingFilesAreReusedUnchanged) {
  const std::string dir = NewTempDir("selfcert-reuse") + "/client";
  absl::StatusOr<SelfCert> first = LoadOrCreateSelfCert(dir, {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string cert = ReadAll(dir + "/cert.pem");
  const std::string key = ReadAll(dir + "/key.pem");
  // Other hosts do not matter: the files are kept as they are (as etcd).
  absl::StatusOr<SelfCert> again = LoadOrCreateSelfCert(dir, {"other.example.test"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->cert_pem, cert);
  EXPECT_EQ(again->key_pem, key);
  EXPECT_EQ(ReadAll(dir + "/cert.pem"), cert);
  EXPECT_EQ(ReadAll(dir + "/key.pem"), key);
}

TEST(SelfCertTest, OneMissingFileMakesANewPair) {
  const std::string dir = NewTempDir("selfcert-half");
  absl::StatusOr<SelfCert> first = LoadOrCreateSelfCert(dir, {"127.0.0.1"});
  ASSERT_TRUE(first.ok()) << first.status();
  for (const char* gone : {"/key.pem", "/cert.pem"}) {
    SCOPED_TRACE(gone);
    const std::string old_cert = ReadAll(dir + "/cert.pem");
    const std::string old_key = ReadAll(dir + "/key.pem");
    ASSERT_EQ(::unlink((dir + gone).c_str()), 0);
    absl::StatusOr<SelfCert> c = LoadOrCreateSelfCert(dir, {"127.0.0.1"});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->created);
    EXPECT_NE(ReadAll(dir + "/cert.pem"), old_cert);
    EXPECT_NE(ReadAll(dir + "/key.pem"), old_key);
    Parsed p = Parse(*c);
    ASSERT_NE(p.cert, nullptr);
    EXPECT_EQ(X509_check_private_key(p.cert.get(), p.key.get()), 1);
  }
}

// etcd (3.4.23, observed) keeps such files and fails at start; so does
// revkv, rather than replace a certificate that clients may trust.
TEST(SelfCertTest, DamagedOrMismatchedFilesAreErrorsAndStayAsTheyAre) {
  const std::string dir = NewTempDir("selfcert-damaged");
  const std::string elsewhere = NewTempDir("selfcert-elsewhere");
  ASSERT_TRUE(LoadOrCreateSelfCert(dir, {"127.0.0.1"}).ok());
  ASSERT_TRUE(LoadOrCreateSelfCert(elsewhere, {"127.0.0.1"}).ok());
  const std::string cert = ReadAll(dir + "/cert.pem");
  const std::string key = ReadAll(dir + "/key.pem");
  struct Case {
    const char* file;
    std::string text;
    const char* names;  // the file the error must name
    const char* what;
  } cases[] = {
      {"/cert.pem", "garbage\n", "/cert.pem", "is not a PEM certificate"},
      {"/cert.pem", cert.substr(0, cert.size() / 2), "/cert.pem", "is not a PEM certificate"},
      {"/key.pem", "", "/key.pem", "is not an unencrypted PEM private key"},
      {"/key.pem", ReadAll(elsewhere + "/key.pem"), "/key.pem", "is not the private key of"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    WriteAll(dir + "/cert.pem", cert);
    WriteAll(dir + "/key.pem", key);
    WriteAll(dir + k.file, k.text);
    absl::StatusOr<SelfCert> c = LoadOrCreateSelfCert(dir, {"127.0.0.1"});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
    EXPECT_NE(c.status().message().find(dir + k.names), std::string::npos) << c.status();
    EXPECT_NE(c.status().message().find(k.what), std::string::npos) << c.status();
    EXPECT_EQ(ReadAll(dir + k.file), k.text) << "left as it was";
  }
}

TEST(SelfCertTest, UnusableHostsAndDirectoriesAreErrorsThatWriteNothing) {
  const std::string root = NewTempDir("selfcert-bad");
  absl::StatusOr<SelfCert> spaced = LoadOrCreateSelfCert(root + "/a", {"bad host"});
  EXPECT_EQ(spaced.status().code(), absl::StatusCode::kInvalidArgument) << spaced.status();
  EXPECT_EQ(Mode(root + "/a/cert.pem"), -1);
  EXPECT_EQ(Mode(root + "/a/key.pem"), -1);
  WriteAll(root + "/file", "x");
  absl::StatusOr<SelfCert> under_file = LoadOrCreateSelfCert(root + "/file/client", {"127.0.0.1"});
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.status().message().find(root + "/file"), std::string::npos)
      << under_file.status();
}

}  // namespace
}  // namespace revkv::server
