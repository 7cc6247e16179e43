// gMock matchers for absl::Status and absl::StatusOr<T>, so that a test
// failure shows the status it got rather than "false":
//   EXPECT_THAT(ledger->AppendQuery(record), IsOk());
//   EXPECT_THAT(gate.Admit(context, Method::kGetEntries),
//               StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("auditor")));
#ifndef INNSYN_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define INNSYN_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <gmock/gmock.h>

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace innsyn::testing {
namespace internal_status {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// gMock prints an absl::Status it was given, but not an absl::StatusOr:
// for one of those, says what status it holds.
inline void Explain(const absl::Status& /*printed*/, ::testing::MatchResultListener* /*listener*/) {
}

template <typename T>
void Explain(const absl::StatusOr<T>& status_or, ::testing::MatchResultListener* listener) {
  *listener << "whose status is " << status_or.status();
}

class IsOkMatcher {
 public:
  template <typename StatusLike>
  bool MatchAndExplain(const StatusLike& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) Explain(actual, listener);
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(::testing::Matcher<absl::StatusCode> code,
                  ::testing::Matcher<const std::string&> message)
      : code_(std::move(code)), message_(std::move(message)) {}

  template <typename StatusLike>
  bool MatchAndExplain(const StatusLike& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    Explain(actual, listener);
    return code_.Matches(status.code()) && message_.Matches(std::string(status.message()));
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has a status whose code ";
    code_.DescribeTo(os);
    *os << " and whose message ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "has a status whose code ";
    code_.DescribeNegationTo(os);
    *os << " or whose message ";
    message_.DescribeNegationTo(os);
  }

 private:
  ::testing::Matcher<absl::StatusCode> code_;
  ::testing::Matcher<const std::string&> message_;
};

}  // namespace internal_status

// Matches an OK absl::Status, or an absl::StatusOr<T> that holds a value.
inline ::testing::PolymorphicMatcher<internal_status::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal_status::IsOkMatcher());
}

// Matches an absl::Status or absl::StatusOr<T> whose code matches `code`
// (a StatusCode or a matcher of one) and whose message matches `message`
// (a string, compared whole, or a matcher such as HasSubstr).
template <typename CodeMatcher, typename MessageMatcher>
::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(CodeMatcher code,
                                                                         MessageMatcher message) {
  return ::testing::MakePolymorphicMatcher(internal_status::StatusIsMatcher(
      ::testing::MatcherCast<absl::StatusCode>(std::move(code)),
      ::testing::MatcherCast<const std::string&>(std::move(message))));
}

template <typename CodeMatcher>
::testing::PolymorphicMatcher<internal_status::StatusIsMatcher> StatusIs(CodeMatcher code) {
  return StatusIs(std::move(code), ::testing::_);
}

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_STATUS_MATCHERS_H_
