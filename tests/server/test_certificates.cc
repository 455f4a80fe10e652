#include "tests/server/test_certificates.h"

#include <cstdio>
#include <vector>

#include "tests/cmd/process.h"

namespace revkv::testing {

std::string MakeTestCertificates(const std::string& d) {
  auto run = [&](std::vector<std::string> argv) -> std::string {
    argv.insert(argv.begin(), "/usr/bin/openssl");
    ProcessResult r = RunProcess(argv, "");
    return r.exit_code == 0 ? "" : argv[1] + " failed: " + r.err;
  };
  auto ca = [&](const std::string& name) {
    return run({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=" + name, "-keyout", d + "/" + name + ".key", "-out",
                d + "/" + name + ".crt"});
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

}  // namespace revkv::testing
