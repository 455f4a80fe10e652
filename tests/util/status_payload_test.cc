// util/status_payload.h: errors named by payload, and the unshared copy a
// status handed to several threads is given.
#include "util/status_payload.h"

#include "gtest/gtest.h"

namespace revkv::util {
namespace {

constexpr char kUrl[] = "revkv.test/error";

TEST(StatusPayloadTest, NamedErrorsAreRecognisedByCodeAndPayload) {
  const absl::Status s = WithName(absl::UnavailableError("not leader"), kUrl, "not-leader");
  EXPECT_TRUE(IsNamed(s, absl::StatusCode::kUnavailable, kUrl, "not-leader"));
  EXPECT_FALSE(IsNamed(s, absl::StatusCode::kInternal, kUrl, "not-leader"));
  EXPECT_FALSE(IsNamed(s, absl::StatusCode::kUnavailable, kUrl, "no-leader"));
  EXPECT_FALSE(IsNamed(absl::UnavailableError("not leader"), absl::StatusCode::kUnavailable, kUrl,
                       "not-leader"));
}

TEST(StatusPayloadTest, AnUnsharedCopyKeepsCodeMessageAndEveryPayload) {
  absl::Status s = WithName(absl::NotFoundError("lease not found"), kUrl, "lease-not-found");
  s.SetPayload("revkv.test/other", absl::Cord(std::string(100, 'x')));  // not inline
  const absl::Status copy = UnsharedCopy(s);
  EXPECT_EQ(copy, s);
  EXPECT_TRUE(IsNamed(copy, absl::StatusCode::kNotFound, kUrl, "lease-not-found"));
  EXPECT_EQ(copy.GetPayload("revkv.test/other"), absl::Cord(std::string(100, 'x')));
  EXPECT_TRUE(UnsharedCopy(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace revkv::util
