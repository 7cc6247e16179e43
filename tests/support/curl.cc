#include "tests/support/curl.h"

#include <cstdlib>
#include <string_view>

#include "tests/support/daemon_process.h"

namespace innsyn::testing {
namespace {

constexpr char kCurl[] = "/usr/bin/curl";

}  // namespace

HttpAnswer Curl(const std::string& url, std::vector<std::string> options) {
  std::vector<std::string> argv = {kCurl, "-s", "-i", "--max-time", "20"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(url);
  CommandResult run = RunCommand(argv);
  HttpAnswer answer;
  answer.curl_exit = run.exit_code;
  std::string_view rest = run.output;
  while (true) {
    const size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) return answer;
    std::string_view head = rest.substr(0, end);
    rest.remove_prefix(end + 4);
    if (head.starts_with("HTTP/1.1 100")) continue;
    answer.code = std::atoi(std::string(head.substr(9, 3)).c_str());
    answer.headers = std::string(head);
    answer.body = std::string(rest);
    return answer;
  }
}

}  // namespace innsyn::testing
