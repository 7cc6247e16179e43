// A plain HTTP/1.0 GET over a loopback socket, for scraping innsynd's
// /metrics in tests. Returns the body, or "" if the request failed.
#ifndef INNSYN_TESTS_SUPPORT_HTTP_GET_H_
#define INNSYN_TESTS_SUPPORT_HTTP_GET_H_

#include <string>

namespace innsyn::testing {

std::string HttpGetBody(int port, const std::string& path);

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_SUPPORT_HTTP_GET_H_
