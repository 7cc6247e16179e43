// One HTTP request with curl, as a clinic's website or an auditor would
// make it, for the tests of innsynd's HTTP listener.
#ifndef INNSYN_TESTS_SUPPORT_CURL_H_
#define INNSYN_TESTS_SUPPORT_CURL_H_

#include <string>
#include <vector>

namespace innsyn::testing {

struct HttpAnswer {
  int code = 0;
  std::string headers;  // the status line and the header lines
  std::string body;
  int curl_exit = 0;
};

// GETs `url`, or whatever `options` (curl's own) make of the request;
// interim answers ("100 Continue") are skipped to the final one.
HttpAnswer Curl(const std::string& url, std::vector<std::string> options = {});

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_CURL_H_
