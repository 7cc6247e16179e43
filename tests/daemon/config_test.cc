#include <gtest/gtest.h>

#include <fstream>

#include "daemon/options.h"
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
