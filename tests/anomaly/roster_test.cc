// Reading the staff roster file.
#include "anomaly/roster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::anomaly {
namespace {

using ::testing::ElementsAre;

class RosterFile : public ::testing::Test {
 protected:
  std::string Write(std::string_view text) {
    std::string path = dir_.path() + "/roster.toml";
    std::ofstream(path) << text;
    return path;
  }
  // The error for a roster of `text`, with the path shown as "<roster>".
  std::string ErrorFor(std::string_view text) {
    std::string path = Write(text);
    absl::StatusOr<Roster> roster = LoadRoster(path);
    EXPECT_FALSE(roster.ok()) << text;
    std::string message(roster.status().message());
    size_t at = message.find(path);
    if (at != std::string::npos) message.replace(at, path.size(), "<roster>");
    return message;
  }

  ::innsyn::testing::TempDir dir_;
};

TEST_F(RosterFile, ReadsEveryField) {
  absl::StatusOr<Roster> roster = LoadRoster(Write(R"(
    [[staff]]
    id = "dr.lie"
    name = "Kari Lie"
    role = "dentist"
    start = 2024-01-01
    end = 2026-12-31
    surname = "Lie"
    address = "Storgata 1, 0155 Oslo"
    own_subject_ids = ["01017012345"]
    related_subject_ids = ["12128054321", "12128054322"]

    [[staff]]
    id = "resepsjon"
    role = "receptionist"
  )"));
  ASSERT_TRUE(roster.ok()) << roster.status();
  ASSERT_EQ(roster->staff().size(), 2u);
  const StaffMember* lie = roster->Find("dr.lie");
  ASSERT_NE(lie, nullptr);
  EXPECT_EQ(lie->name, "Kari Lie");
  EXPECT_EQ(lie->role, "dentist");
  EXPECT_EQ(lie->start, absl::CivilDay(2024, 1, 1));
  EXPECT_EQ(lie->end, absl::CivilDay(2026, 12, 31));
  EXPECT_EQ(lie->surname, "Lie");
  EXPECT_EQ(lie->address, "Storgata 1, 0155 Oslo");
  EXPECT_THAT(lie->related_subject_ids, ElementsAre("12128054321", "12128054322"));
  EXPECT_EQ(roster->OwnerOf("01017012345"), lie);
  EXPECT_EQ(roster->OwnerOf("12128054321"), nullptr);
  EXPECT_FALSE(roster->Find("resepsjon")->start.has_value());
  EXPECT_EQ(roster->Find("nobody"), nullptr);
  EXPECT_FALSE(roster->empty());
}

TEST_F(RosterFile, NamesRecordsByPseudonym) {
  const std::string own = "0123456789abcdef0123456789abcdef";
  absl::StatusOr<Roster> roster = LoadRoster(Write(R"(
    [[staff]]
    id = "dr.lie"
    role = "dentist"
    own_subject_pseudonyms = ["0123456789abcdef0123456789abcdef"]
    related_subject_pseudonyms = ["fedcba9876543210fedcba9876543210"]
  )"));
  ASSERT_TRUE(roster.ok()) << roster.status();
  EXPECT_TRUE(roster->has_pseudonyms());
  const StaffMember* lie = roster->Find("dr.lie");
  EXPECT_THAT(lie->related_subject_pseudonyms, ElementsAre("fedcba9876543210fedcba9876543210"));
  EXPECT_EQ(roster->OwnerOf("01017012345", own), lie);
  EXPECT_EQ(roster->OwnerOf("01017012345"), nullptr);
  EXPECT_EQ(roster->OwnerOf(own), nullptr);  // a pseudonym is not an identity number
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\nown_subject_pseudonyms = [\"01017012345\"]"),
            "roster <roster>: staff[0] (a): own_subject_pseudonyms must hold subject pseudonyms "
            "of 32 lower-case hex digits, as innsynctl roster pseudonymize writes them; "
            "\"01017012345\" is not one");
}

TEST_F(RosterFile, EmptyFileIsAnEmptyRoster) {
  absl::StatusOr<Roster> roster = LoadRoster(Write(""));
  ASSERT_TRUE(roster.ok());
  EXPECT_TRUE(roster->empty());
}

TEST_F(RosterFile, ErrorsNameFileEntryAndField) {
  EXPECT_EQ(ErrorFor("[[staff]]\nname = \"Kari\""), "roster <roster>: staff[0]: id is required");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\n[[staff]]\nid = \"b\"\nstart = \"2024-01-01\""),
            "roster <roster>: staff[1] (b): start must be a date (2026-01-31, without quotes)");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\n[[staff]]\nid = \"a\""),
            "roster <roster>: staff[1] (a): id repeats staff[0]");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\nrole = 3"),
            "roster <roster>: staff[0] (a): role must be a non-empty string");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\nstart = 2026-02-01\nend = 2026-01-01"),
            "roster <roster>: staff[0] (a): end is before start");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\nown_subject_ids = [1]"),
            "roster <roster>: staff[0] (a): own_subject_ids must be a list of non-empty strings");
  EXPECT_EQ(ErrorFor("[[staff]]\nid = \"a\"\nrelations = []"),
            "roster <roster>: staff[0] (a): relations is not a roster field");
  EXPECT_EQ(ErrorFor("[staff]\nid = \"a\""), "roster <roster>: staff must be [[staff]] entries");
  EXPECT_THAT(ErrorFor("[[staff]]\nid = "), ::testing::StartsWith("roster <roster>: "));
  EXPECT_THAT(ErrorFor("[[staff]]\nid = "), ::testing::HasSubstr("at line 2"));
}

TEST_F(RosterFile, MissingFileIsAnError) {
  absl::StatusOr<Roster> roster = LoadRoster(dir_.path() + "/absent.toml");
  EXPECT_FALSE(roster.ok());
  EXPECT_THAT(std::string(roster.status().message()), ::testing::HasSubstr("absent.toml"));
}

}  // namespace
}  // namespace innsyn::anomaly
