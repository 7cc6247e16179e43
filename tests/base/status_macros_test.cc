#include "base/status_macros.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace innsyn {
namespace {

absl::Status FailIf(bool fail) {
  return fail ? absl::NotFoundError("no entry 7") : absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeIf(bool fail, int value) {
  if (fail) return absl::DataLossError("entry 7 does not match its leaf hash");
  return std::make_unique<int>(value);
}

absl::Status Steps(bool first_fails, bool second_fails, int& reached) {
  reached = 0;
  RETURN_IF_ERROR(FailIf(first_fails));
  reached = 1;
  if (second_fails) RETURN_IF_ERROR(FailIf(true));  // the body of an unbraced if
  reached = 2;
  return absl::OkStatus();
}

absl::StatusOr<int> Sum(bool first_fails, bool second_fails) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> a, MakeIf(first_fails, 2));  // a move-only value
  std::unique_ptr<int> b;
  ASSIGN_OR_RETURN(b, MakeIf(second_fails, 3));  // an existing variable
  return *a + *b;
}

TEST(StatusMacros, ReturnIfErrorHandsTheStatusOnUnchangedAndStopsThere) {
  int reached = -1;
  EXPECT_TRUE(Steps(false, false, reached).ok());
  EXPECT_EQ(reached, 2);
  absl::Status first = Steps(true, false, reached);
  EXPECT_EQ(first, absl::NotFoundError("no entry 7"));
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(Steps(false, true, reached).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(reached, 1);
}

TEST(StatusMacros, AssignOrReturnMovesTheValueOrReturnsTheStatus) {
  EXPECT_EQ(*Sum(false, false), 5);
  EXPECT_EQ(Sum(true, false).status(), absl::DataLossError("entry 7 does not match its leaf hash"));
  EXPECT_EQ(Sum(false, true).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace innsyn
