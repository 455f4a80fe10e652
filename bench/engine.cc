#include "bench/engine.h"

namespace revkv::bench {

absl::Status Engine::Get(std::string_view key, std::string* value) {
  std::unique_ptr<Reader> r = NewReader();
  if (absl::Status s = r->Begin(); !s.ok()) return s;
  std::string_view v;
  absl::Status s = r->Get(key, &v);
  if (s.ok()) value->assign(v.data(), v.size());
  r->End();
  return s;
}

absl::Status Engine::Scan(uint64_t limit, uint64_t* entries) {
  std::unique_ptr<Reader> r = NewReader();
  if (absl::Status s = r->Begin(); !s.ok()) return s;
  uint64_t bytes = 0;
  absl::Status s = r->Scan(limit, entries, &bytes);
  r->End();
  return s;
}

}  // namespace revkv::bench
