// Waiting in integration tests for what innsynd does on threads of its own
// (alerts, metrics, self-verification): poll, never sleep a fixed time.
#ifndef INNSYN_TESTS_SUPPORT_EVENTUALLY_H_
#define INNSYN_TESTS_SUPPORT_EVENTUALLY_H_

#include <chrono>
#include <functional>
#include <string>

namespace innsyn::testing {

// Polls `condition` every 50 ms for up to `timeout`; its last answer.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_EVENTUALLY_H_
