#include "ctl/forward/mapping.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::ctl::forward {
namespace {

constexpr char kMapping[] = R"(
format = "csv"
time_formats = ["%d.%m.%Y %H:%M"]
[columns]
occurred-at = "tid"
actor-id = "bruker"
subject-id = "fnr"
action = "handling"
source-seq = "nr"
[attributes]
ward = "avdeling"
[constants]
source = "opus/klinikk-1"
subject-kind = "patient"
subtype = "view"
object-type = "journal_note"
[values.action]
"LES" = "read"
)";

class Values : public RecordValues {
 public:
  explicit Values(std::vector<std::optional<std::string>> values) : values_(std::move(values)) {}
  std::optional<std::string> Value(size_t column) const override { return values_.at(column); }

 private:
  std::vector<std::optional<std::string>> values_;
};

class MappingTest : public ::testing::Test {
 protected:
  absl::StatusOr<Mapping> Load(const std::string& text) {
    const std::string path = dir_.path() + "/map.toml";
    std::ofstream(path) << text;
    return LoadMapping(path);
  }
  // The values in the mapping's column order (TOML tables are sorted by key).
  Values Row(const Mapping& mapping, std::map<std::string, std::optional<std::string>> by_column) {
    std::vector<std::optional<std::string>> values;
    for (const ColumnField& column : mapping.columns) values.push_back(by_column[column.column]);
    return Values(values);
  }
  testing::TempDir dir_;
};

TEST_F(MappingTest, MapsColumnsConstantsWordsAndLocalTimes) {
  absl::StatusOr<Mapping> mapping = Load(kMapping);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  absl::StatusOr<v1::AccessEvent> event = MapRecord(*mapping,
                                                    Row(*mapping, {{"tid", "01.07.2025 10:00"},
                                                                   {"bruker", "dr-a"},
                                                                   {"fnr", "01017012345"},
                                                                   {"handling", "LES"},
                                                                   {"nr", "17"},
                                                                   {"avdeling", "kirurgi"}}),
                                                    "f-1");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->event_id(), "f-1");
  EXPECT_EQ(event->source().instance(), "klinikk-1");
  EXPECT_EQ(event->action(), v1::ACTION_CODE_READ);
  EXPECT_EQ(event->source_seq(), 17u);
  EXPECT_EQ(event->attributes().at("ward"), "kirurgi");
  // Summer time in Oslo: 10:00 is 08:00 UTC.
  EXPECT_EQ(event->occurred_at().seconds(), 1751356800);
}

TEST_F(MappingTest, ErrorsNameTheColumnAndTheField) {
  absl::StatusOr<Mapping> mapping = Load(kMapping);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  std::map<std::string, std::optional<std::string>> good = {
      {"tid", "01.07.2025 10:00"}, {"bruker", "dr-a"}, {"fnr", "1"},
      {"handling", "LES"},         {"nr", "1"},        {"avdeling", ""}};
  auto error = [&](const std::string& column, std::optional<std::string> value) {
    auto row = good;
    row[column] = value;
    return std::string(MapRecord(*mapping, Row(*mapping, row), "f-1").status().message());
  };
  EXPECT_EQ(error("bruker", std::nullopt), "column \"bruker\" (actor-id): missing");
  EXPECT_EQ(error("bruker", ""), "column \"bruker\" (actor-id): empty");
  EXPECT_EQ(error("nr", "x"), "column \"nr\" (source-seq): \"x\" is not a whole number");
  EXPECT_TRUE(error("handling", "SKRIV")
                  .starts_with("column \"handling\" (action): \"SKRIV\" is "
                               "not one of"))
      << error("handling", "SKRIV");
  EXPECT_TRUE(error("tid", "2025-07-01")
                  .starts_with("column \"tid\" (occurred-at): \"2025-07-01\" is not a time"))
      << error("tid", "2025-07-01");
}

TEST_F(MappingTest, RfcTimesKeepTheirOffset) {
  absl::StatusOr<Mapping> mapping = Load(kMapping);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  absl::StatusOr<absl::Time> time = ParseFileTime(*mapping, "2025-07-01T10:00:00+02:00");
  ASSERT_TRUE(time.ok());
  EXPECT_EQ(absl::ToUnixSeconds(*time), 1751356800);
}

TEST_F(MappingTest, LocalTimesAcrossTheChangesOfSummerTime) {
  absl::StatusOr<Mapping> mapping = Load(kMapping);
  ASSERT_TRUE(mapping.ok()) << mapping.status();
  // 02:30 on 26 October 2025 happens twice in Oslo: the first, in summer
  // time (+02:00), is taken.
  absl::StatusOr<absl::Time> repeated = ParseFileTime(*mapping, "26.10.2025 02:30");
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(*repeated, absl::FromUnixSeconds(1761438600));  // 00:30 UTC
  absl::StatusOr<absl::Time> winter = ParseFileTime(*mapping, "26.10.2025 03:30");
  ASSERT_TRUE(winter.ok());
  EXPECT_EQ(*winter, absl::FromUnixSeconds(1761445800));  // 02:30 UTC
}

TEST_F(MappingTest, MistakesInTheFileAreNamed) {
  auto message = [&](const std::string& text) {
    return std::string(Load(text).status().message());
  };
  EXPECT_TRUE(message("formt = \"csv\"").find("formt is not a key here") != std::string::npos);
  EXPECT_TRUE(message("format = \"xml\"").find("format is \"xml\"") != std::string::npos);
  EXPECT_TRUE(message("time_zone = \"Europe/Olso\"").find("is not a known zone") !=
              std::string::npos);
  EXPECT_TRUE(message("[columns]\nactor = \"a\"").find("columns.actor is not a field") !=
              std::string::npos);
  EXPECT_TRUE(message("[columns]\nactor-id = \"a\"").find("must be in [columns] or [constants]") !=
              std::string::npos)
      << message("[columns]\nactor-id = \"a\"");
  std::string bad_constant = kMapping;
  bad_constant.replace(bad_constant.find("\"patient\""), 9, "\"pasient\"");
  EXPECT_TRUE(message(bad_constant).find("constants.subject-kind: \"pasient\" is not one of") !=
              std::string::npos)
      << message(bad_constant);
  std::string twice = std::string(kMapping) + "\n";
  twice.replace(twice.find("[constants]\n"), 12, "[constants]\nactor-id = \"x\"\n");
  EXPECT_TRUE(message(twice).find("constants.actor-id is also in [columns]") != std::string::npos)
      << message(twice);
}

}  // namespace
}  // namespace innsyn::ctl::forward
