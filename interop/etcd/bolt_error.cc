#include "interop/etcd/bolt_error.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace revkv::interop::etcd {

absl::Status BoltError(const char* what, std::optional<uint64_t> page, std::string_view message) {
  const std::string where = page.has_value() ? absl::StrCat("page ", *page) : "file";
  absl::Status s = absl::DataLossError(
      absl::StrCat("bbolt ", where, ": ", what, ": ", absl::string_view(message.data(), message.size())));
  s.SetPayload(kBoltErrorUrl, absl::Cord(absl::string_view(what)));
  s.SetPayload(kBoltPageUrl, absl::Cord(page.has_value() ? absl::StrCat(*page) : std::string("-")));
  return s;
}

bool IsBoltError(const absl::Status& s, const char* what) {
  if (!absl::IsDataLoss(s)) return false;
  auto p = s.GetPayload(kBoltErrorUrl);
  return p.has_value() && *p == absl::string_view(what);
}

bool IsBoltDamage(const absl::Status& s) {
  return absl::IsDataLoss(s) && s.GetPayload(kBoltErrorUrl).has_value();
}

std::optional<uint64_t> BoltErrorPage(const absl::Status& s) {
  auto p = s.GetPayload(kBoltPageUrl);
  if (!p.has_value()) return std::nullopt;
  uint64_t page;
  if (!absl::SimpleAtoi(std::string(*p), &page)) return std::nullopt;
  return page;
}

}  // namespace revkv::interop::etcd
