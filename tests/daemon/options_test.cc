#include "daemon/options.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::daemon {
namespace {

absl::StatusOr<DaemonOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "innsynd");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  bool help = false;
  return ParseDaemonOptions(static_cast<int>(argv.size()), argv.data(), help);
}

TEST(Config, DefaultsListenOnLoopbackWithALocalDataFolder) {
  DaemonOptions options = *Parse({});
  EXPECT_EQ(options.listen, "127.0.0.1:50051");
  EXPECT_EQ(options.metrics_listen, "127.0.0.1:9464");
  EXPECT_EQ(options.data_dir, "./innsyn-data");
}

TEST(Config, FileIsReadAndFlagsOverrideIt) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "listen = \"127.0.0.1:6000\"\n"
                         "data_dir = \"/var/lib/innsyn\"\n"
                         "origin = \"tannlege.example/innsyn\"\n"
                         "max_group_events = 100\n";
  DaemonOptions options = *Parse({"--config", path, "--listen", "127.0.0.1:7000"});
  EXPECT_EQ(options.listen, "127.0.0.1:7000");
  EXPECT_EQ(options.data_dir, "/var/lib/innsyn");
  EXPECT_EQ(options.origin, "tannlege.example/innsyn");
  EXPECT_EQ(options.max_group_events, 100u);
}

TEST(Config, UnknownSettingIsNamed) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "lsten = \"127.0.0.1:6000\"\n";
  absl::StatusOr<DaemonOptions> options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("lsten"), std::string::npos);
}

TEST(Config, WrongTypeIsNamed) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "max_group_events = \"many\"\n";
  absl::StatusOr<DaemonOptions> options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("max_group_events"), std::string::npos);
}

TEST(Config, RetentionIsReadByClassAndAMistypedClassIsNamed) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "[retention]\ndefault_years = 12\n[retention.years]\nweb_form = 2\n";
  absl::StatusOr<DaemonOptions> options = Parse({"--config", path});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->retention.YearsFor("journal_note"), 12);
  EXPECT_EQ(options->retention.YearsFor("web_form"), 2);
  std::ofstream(path) << "[retention.years]\nweb-form = 2\n";
  options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("retention.years.web-form"), std::string::npos)
      << options.status();
}

TEST(Config, MissingConfigFileIsAnError) {
  EXPECT_FALSE(Parse({"--config", "/nonexistent/innsynd.toml"}).ok());
}

TEST(Config, UnknownFlagIsAnError) { EXPECT_FALSE(Parse({"--bogus"}).ok()); }

TEST(Config, PlaintextListenerMustBeLoopback) {
  EXPECT_TRUE(Parse({"--listen", "127.0.0.1:0"}).ok());
  EXPECT_TRUE(Parse({"--listen", "[::1]:50051"}).ok());
  EXPECT_TRUE(Parse({"--listen", "localhost:50051"}).ok());
  absl::StatusOr<DaemonOptions> options = Parse({"--listen", "0.0.0.0:50051"});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("not a loopback address"), std::string::npos);
  EXPECT_FALSE(Parse({"--listen", "10.0.0.5:50051"}).ok());
  EXPECT_FALSE(Parse({"--metrics-listen", "0.0.0.0:9464"}).ok());
}

TEST(Config, OversizedIntegerIsRejected) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "max_message_bytes = 4294967295\n";
  absl::StatusOr<DaemonOptions> options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("max_message_bytes"), std::string::npos);
}

}  // namespace
}  // namespace innsyn::daemon

namespace innsyn::daemon {
namespace {

TEST(Config, ShippedExampleConfigIsValid) {
  absl::StatusOr<DaemonOptions> options =
      Parse({"--config", std::string(INNSYN_SOURCE_DIR) + "/systemd/innsynd.toml"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->data_dir, "/var/lib/innsyn");
  EXPECT_EQ(options->listen, "127.0.0.1:50051");
}

}  // namespace
}  // namespace innsyn::daemon

namespace innsyn::daemon {
namespace {

absl::StatusOr<DaemonOptions> ParseFile(const std::string& toml,
                                        std::vector<std::string> extra = {}) {
  testing::TempDir dir;
  std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << toml;
  std::vector<std::string> args = {"--config", path};
  args.insert(args.end(), extra.begin(), extra.end());
  return Parse(args);
}

TEST(Config, TlsAllowsAnyListenAddressAndNeedsAllThreeFiles) {
  absl::StatusOr<DaemonOptions> options = ParseFile(
      "listen = \"0.0.0.0:50051\"\ntls_cert_file = \"s.pem\"\n"
      "tls_key_file = \"s.key\"\ntls_ca_file = \"ca.pem\"\n");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_TRUE(options->mtls());
  absl::StatusOr<DaemonOptions> partial =
      ParseFile("listen = \"0.0.0.0:50051\"\ntls_cert_file = \"s.pem\"\n");
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.status().message().find("tls_key_file is required"), std::string::npos)
      << partial.status();
}

TEST(Config, PlaintextOnTheNetworkIsRefused) {
  absl::StatusOr<DaemonOptions> options = Parse({"--listen", "0.0.0.0:50051"});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("not a loopback address"), std::string::npos);
}

TEST(Config, RolesTableReplacesARolesMethods) {
  absl::StatusOr<DaemonOptions> options =
      ParseFile("[roles]\nadmin = [\"GetCheckpoint\"]\nportal = []\n");
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->roles.at("admin"),
            MethodSet().set(static_cast<size_t>(Method::kGetCheckpoint)));
  EXPECT_TRUE(options->roles.at("portal").none());
  EXPECT_EQ(options->roles.at("controller"), DefaultRolePermissions().at("controller"));
}

TEST(Config, RolesMayNotBeGrantedWhatTheReadmePromisesAway) {
  for (const char* bad :
       {"[roles]\nauditor = [\"GetEntries\"]\n", "[roles]\nportal = [\"ListActorActivity\"]\n",
        "[roles]\nnurse = [\"GetCheckpoint\"]\n", "[roles]\nadmin = [\"DropTables\"]\n"}) {
    absl::StatusOr<DaemonOptions> options = ParseFile(bad);
    EXPECT_FALSE(options.ok()) << bad;
    EXPECT_NE(options.status().message().find("roles"), std::string::npos) << options.status();
  }
}

TEST(Config, LimitsAreReadFromFileAndFlags) {
  absl::StatusOr<DaemonOptions> options = ParseFile(
      "rate_limit_calls_per_second = 50\nrate_limit_burst = 10\n"
      "max_streams_per_client = 3\nmax_call_seconds = 20\nmax_stream_seconds = 600\n",
      {"--rate-limit-calls-per-second", "0"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->limits.calls_per_second, 0);
  EXPECT_EQ(options->limits.burst, 10);
  EXPECT_EQ(options->limits.max_streams_per_client, 3u);
  EXPECT_EQ(options->limits.max_call_duration, absl::Seconds(20));
  EXPECT_EQ(options->limits.max_stream_duration, absl::Seconds(600));
}

}  // namespace
}  // namespace innsyn::daemon

namespace innsyn::daemon {
namespace {

TEST(Config, ReportTableNamesTheControllerAndHowStaffAreShown) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "[report]\ncontroller_name = \"Tannlegene i Storgata AS\"\n"
                         "organisation_number = \"987 654 321\"\nstaff = \"role\"\n";
  absl::StatusOr<DaemonOptions> options = Parse({"--config", path});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->report.controller.name(), "Tannlegene i Storgata AS");
  EXPECT_EQ(options->report.controller.organisation_number(), "987 654 321");
  EXPECT_TRUE(options->report.staff_by_role);
  std::ofstream(path) << "[report]\nstaff = \"anonymous\"\n";
  options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("report.staff"), std::string::npos) << options.status();
  std::ofstream(path) << "[report]\nclinic = \"x\"\n";
  options = Parse({"--config", path});
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("report: unknown setting clinic"), std::string::npos)
      << options.status();
}

TEST(Config, HttpListenerIsOffUnlessSetAndPlaintextOnlyOnLoopback) {
  absl::StatusOr<DaemonOptions> defaults = Parse({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->http_listen, "");
  EXPECT_TRUE(Parse({"--http-listen", "127.0.0.1:8080"}).ok());
  absl::StatusOr<DaemonOptions> open = Parse({"--http-listen", "0.0.0.0:8080"});
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("http_listen 0.0.0.0:8080 is not a loopback address"),
            std::string::npos);
  testing::TempDir dir;
  const std::string path = dir.path() + "/innsynd.toml";
  std::ofstream(path) << "http_listen = \"127.0.0.1:8443\"\nhttp_read_timeout_seconds = 3\n"
                         "http_threads = 4\n";
  absl::StatusOr<DaemonOptions> file = Parse({"--config", path});
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->http_listen, "127.0.0.1:8443");
  EXPECT_EQ(file->http_read_timeout, absl::Seconds(3));
  EXPECT_EQ(file->http_threads, 4);
  std::ofstream(path) << "http_threads = 0\n";
  absl::StatusOr<DaemonOptions> zero = Parse({"--config", path});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("http_threads"), std::string::npos);
}

}  // namespace
}  // namespace innsyn::daemon
