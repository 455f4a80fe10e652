// TLS on `revkv serve`'s client URLs (--cert-file, --key-file,
// --trusted-ca-file, --client-cert-auth), driven by etcdctl 3.4.23 over
// https on a kernel-picked loopback port, and by revkv's client mode
// (`revkv --endpoints`, the same flags) with the same expectations. The certificates are made at test
// time with the openssl command (tools/setup.sh installs it): a CA, a
// server certificate for 127.0.0.1 and a client certificate it signed, and
// a second CA with its own client certificate that the server must not
// trust.
//
// What etcd 3.4.23 does, observed with the same certificates: with a cert
// and key, a client that trusts the CA works and one that does not fails
// its handshake (etcdctl: "context deadline exceeded", rc 1); with
// --trusted-ca-file, with or without --client-cert-auth, a client without
// a certificate signed by that CA is refused the same way.
#include <signal.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

const char kOpenssl[] = "/usr/bin/openssl";
const char kHandshakeFailed[] = "Error: context deadline exceeded";

class ServeTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(NewTempDir("tls"));
    error_ = new std::string(MakeCertificates(*dir_));
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete error_;
  }
  void SetUp() override { ASSERT_EQ(*error_, "") << "making the test certificates"; }

  static std::string Path(const std::string& name) { return *dir_ + "/" + name; }

  // ca signs server (127.0.0.1) and client; other-ca signs other-client.
  static std::string MakeCertificates(const std::string& d) {
    auto run = [&](std::vector<std::string> argv) -> std::string {
      argv.insert(argv.begin(), kOpenssl);
      ProcessResult r = RunProcess(argv, "");
      return r.exit_code == 0 ? "" : argv[1] + " failed: " + r.err;
    };
    auto ca = [&](const std::string& name) {
      return run({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                  "/CN=" + name, "-keyout", d + "/" + name + ".key", "-out", d + "/" + name + ".crt"});
    };
    auto leaf = [&](const std::string& name, const std::string& by, const std::string& ext) {
      const std::string p = d + "/" + name;
      std::string e = run({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout",
                           p + ".key", "-out", p + ".csr"});
      if (!e.empty()) return e;
      if (FILE* f = fopen((p + ".ext").c_str(), "w")) {
        fputs(ext.c_str(), f);
        fclose(f);
      }
      return run({"x509", "-req", "-days", "2", "-in", p + ".csr", "-CA", d + "/" + by + ".crt",
                  "-CAkey", d + "/" + by + ".key", "-CAcreateserial", "-extfile", p + ".ext", "-out",
                  p + ".crt"});
    };
    std::string e = ca("ca") + ca("other-ca");
    e += leaf("server", "ca",
              "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    e += leaf("client", "ca", "extendedKeyUsage=clientAuth\n");
    e += leaf("other-client", "other-ca", "extendedKeyUsage=clientAuth\n");
    return e;
  }

  std::vector<std::string> ServerFlags(const std::vector<std::string>& more = {}) {
    std::vector<std::string> f = {"--listen-client-urls", "https://127.0.0.1:0",
                                  "--cert-file", Path("server.crt"), "--key-file", Path("server.key")};
    f.insert(f.end(), more.begin(), more.end());
    return f;
  }

  // The clients: etcdctl, and revkv's client mode (cmd/revkv/remote_kv.h)
  // with the same flags.
  static std::vector<std::string> Clients() { return {"/usr/bin/etcdctl", RevkvPath()}; }

  // `client_` over https; `tls` are its --cacert/--cert/--key flags.
  ProcessResult Etcdctl(const ServeProcess& srv, const std::vector<std::string>& tls,
                        const std::vector<std::string>& args) {
    return Run(client_, "https://", srv, tls, args, "3s");
  }
  // A call expected to fail its handshake: the clients report that only at
  // their command timeout, so it is short (every test waits for it).
  ProcessResult Refused(const ServeProcess& srv, const std::vector<std::string>& tls,
                        const std::vector<std::string>& args, const char* scheme = "https://") {
    return Run(client_, scheme, srv, tls, args, "700ms");
  }
  static ProcessResult Run(const std::string& client, const char* scheme, const ServeProcess& srv,
                           const std::vector<std::string>& tls, const std::vector<std::string>& args,
                           const std::string& timeout) {
    std::vector<std::string> argv = {client, "--endpoints=" + (scheme + srv.address()),
                                     "--dial-timeout=2s", "--command-timeout=" + timeout};
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, "", {"ETCDCTL_API=3"});
  }

  std::vector<std::string> TrustCa() { return {"--cacert", Path("ca.crt")}; }
  std::vector<std::string> WithClient(const std::string& who) {
    return {"--cacert", Path("ca.crt"), "--cert", Path(who + ".crt"), "--key", Path(who + ".key")};
  }

  static void ExpectRefused(const ProcessResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << what << ": " << r.err;
    EXPECT_EQ(r.LastErrLine(), kHandshakeFailed) << what;
    EXPECT_EQ(r.out, "") << what;
  }

  std::string client_ = "/usr/bin/etcdctl";
  static std::string* dir_;
  static std::string* error_;
};

std::string* ServeTlsTest::dir_ = nullptr;
std::string* ServeTlsTest::error_ = nullptr;

TEST_F(ServeTlsTest, HttpsWithCertAndKeyServesClientsThatTrustTheCa) {
  ServeProcess srv;
  std::string error;
  ASSERT_TRUE(srv.Start(&error, ServerFlags())) << error;
  for (const std::string& client : Clients()) {
    SCOPED_TRACE(client);
    client_ = client;
    ProcessResult put = Etcdctl(srv, TrustCa(), {"put", "a", "1"});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    EXPECT_EQ(put.out, "OK\n");
    ProcessResult get = Etcdctl(srv, TrustCa(), {"get", "a"});
    EXPECT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(get.out, "a\n1\n");
    // No client certificate is asked for without a trusted CA.
    EXPECT_EQ(Etcdctl(srv, WithClient("other-client"), {"get", "a"}).out, "a\n1\n");
    // The system's roots do not know the test CA; neither does another CA.
    ExpectRefused(Refused(srv, {}, {"get", "a"}), "no --cacert");
    ExpectRefused(Refused(srv, {"--cacert", Path("other-ca.crt")}, {"get", "a"}), "other CA");
    // Plaintext against the TLS port.
    ExpectRefused(Refused(srv, {}, {"get", "a"}, "http://"), "plaintext");
  }
  EXPECT_EQ(srv.Stop(SIGTERM), 0);
}

TEST_F(ServeTlsTest, ClientCertAuthRefusesClientsWithoutACertFromTheCa) {
  ServeProcess srv;
  std::string error;
  ASSERT_TRUE(srv.Start(&error, ServerFlags({"--client-cert-auth", "--trusted-ca-file",
                                             Path("ca.crt")})))
      << error;
  for (const std::string& client : Clients()) {
    SCOPED_TRACE(client);
    client_ = client;
    ProcessResult put = Etcdctl(srv, WithClient("client"), {"put", "a", "1"});
    EXPECT_EQ(put.exit_code, 0) << put.err;
    EXPECT_EQ(put.out, "OK\n");
    EXPECT_EQ(Etcdctl(srv, WithClient("client"), {"get", "a"}).out, "a\n1\n");
    ExpectRefused(Refused(srv, TrustCa(), {"get", "a"}), "no client certificate");
    ExpectRefused(Refused(srv, WithClient("other-client"), {"get", "a"}), "client cert of another CA");
  }
  EXPECT_EQ(srv.Stop(SIGTERM), 0);
}

TEST_F(ServeTlsTest, TrustedCaAloneRequiresClientCertsAsInEtcd34) {
  ServeProcess srv;
  std::string error;
  ASSERT_TRUE(srv.Start(&error, ServerFlags({"--trusted-ca-file", Path("ca.crt")}))) << error;
  EXPECT_EQ(Etcdctl(srv, WithClient("client"), {"put", "a", "1"}).out, "OK\n");
  ExpectRefused(Refused(srv, TrustCa(), {"get", "a"}), "no client certificate");
  EXPECT_EQ(srv.Stop(SIGTERM), 0);
}

TEST_F(ServeTlsTest, MisconfigurationsAreRefusedAtStart) {
  const std::string data = NewTempDir("tls-bad") + "/data";
  auto serve = [&](std::vector<std::string> flags) {
    flags.insert(flags.begin(), {RevkvPath(), "serve", "--data-dir", data});
    return RunProcess(flags, "");
  };
  ProcessResult no_cert = serve({"--listen-client-urls", "https://127.0.0.1:0"});
  EXPECT_EQ(no_cert.exit_code, 2);
  EXPECT_NE(no_cert.err.find("Error: TLS key/cert (--cert-file, --key-file) must be provided for "
                             "client url https://127.0.0.1:0 with HTTPS scheme"),
            std::string::npos)
      << no_cert.err;
  ProcessResult no_ca = serve(ServerFlags({"--client-cert-auth"}));
  EXPECT_EQ(no_ca.exit_code, 2);
  EXPECT_NE(no_ca.err.find("Error: --client-cert-auth needs --trusted-ca-file"), std::string::npos)
      << no_ca.err;
  ProcessResult bad_bool = serve(ServerFlags({"--client-cert-auth=maybe"}));
  EXPECT_EQ(bad_bool.exit_code, 2);
  EXPECT_NE(bad_bool.err.find("invalid value \"maybe\" for --client-cert-auth"), std::string::npos)
      << bad_bool.err;
  ProcessResult missing = serve({"--listen-client-urls", "https://127.0.0.1:0", "--cert-file",
                                 Path("nonexistent.crt"), "--key-file", Path("server.key")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read --cert-file " + Path("nonexistent.crt")),
            std::string::npos)
      << missing.err;
  // A key that is not the certificate's: the listener cannot start.
  ProcessResult mismatched = serve({"--listen-client-urls", "https://127.0.0.1:0", "--cert-file",
                                    Path("server.crt"), "--key-file", Path("client.key")});
  EXPECT_EQ(mismatched.exit_code, 1);
  EXPECT_NE(mismatched.err.find("TLS certificate, key or CA is unusable"), std::string::npos)
      << mismatched.err;
}

}  // namespace
}  // namespace revkv::testing
