#include "util/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace revkv::util {
namespace {
EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Allocation failure is the only way these fail with SHA-256.
  if (ctx_ == nullptr || EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256::~Sha256() { EVP_MD_CTX_free(Ctx(ctx_)); }

void Sha256::Update(std::string_view bytes) {
  EVP_DigestUpdate(Ctx(ctx_), bytes.data(), bytes.size());
}

std::string Sha256::Final() {
  std::string out(kSha256Size, '\0');
  unsigned int n = 0;
  EVP_DigestFinal_ex(Ctx(ctx_), reinterpret_cast<unsigned char*>(out.data()), &n);
  EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr);
  return out;
}

}  // namespace revkv::util
