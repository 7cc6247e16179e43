// Reading the [detection] table of innsynd's config.
#include "anomaly/detection_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace innsyn::anomaly {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

toml::table Detection(std::string_view text) { return toml::parse(text); }

// The error ReadDetectionOptions gives for `text`, checking that it left
// the options as they were.
std::string ErrorFor(std::string_view text) {
  DetectionOptions options;
  options.bulk_export.max_subjects = 7;
  absl::Status status = ReadDetectionOptions(Detection(text), options);
  EXPECT_FALSE(status.ok()) << text;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(options.bulk_export.max_subjects, 7) << "options changed on error";
  EXPECT_EQ(options.volume_spike.floor, 30) << "options changed on error";
  return std::string(status.message());
}

TEST(DetectionOptions, EmptyTableKeepsDefaults) {
  DetectionOptions options;
  ASSERT_TRUE(ReadDetectionOptions(toml::table(), options).ok());
  EXPECT_TRUE(options.enabled);
  EXPECT_EQ(options.time_zone, "Europe/Oslo");
  EXPECT_EQ(options.no_care_relationship.days_before, 30);
  EXPECT_EQ(options.no_care_relationship.severity, v1::ALERT_SEVERITY_HIGH);
  EXPECT_EQ(options.verification_failed.severity, v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_EQ(options.bulk_export.window, absl::Minutes(10));
  EXPECT_EQ(options.replay_window, absl::Hours(24 * 400));
  // Mon-Fri 07:00-20:00, Sat 10:00-15:00, Sun closed.
  EXPECT_THAT(options.opening_hours.days[0], ElementsAre(Pair(7 * 60, 20 * 60)));
  EXPECT_THAT(options.opening_hours.days[4], ElementsAre(Pair(7 * 60, 20 * 60)));
  EXPECT_THAT(options.opening_hours.days[5], ElementsAre(Pair(10 * 60, 15 * 60)));
  EXPECT_TRUE(options.opening_hours.days[6].empty());
}

TEST(DetectionOptions, EverySettingIsRead) {
  DetectionOptions options;
  absl::Status status = ReadDetectionOptions(Detection(R"(
    enabled = true
    roster_file = "/etc/innsyn/roster.toml"
    time_zone = "Europe/Berlin"
    closed_dates = ["2026-12-24", "2026-12-25"]
    clinical_roles = ["dentist"]
    non_staff_roles = ["patient", "robot"]
    replay_window_days = 120
    [opening_hours]
    monday = ["08:00-11:30", "12:00-16:00"]
    saturday = []
    [no_care_relationship]
    days_before = 14
    days_after = 0
    treatment_days = 180
    severity = "critical"
    [off_hours]
    enabled = false
    [volume_spike]
    floor = 40
    multiplier = 2.5
    baseline_days = 14
    min_baseline_hours = 10
    [bulk_export]
    max_subjects = 50
    window_minutes = 30
    severity = "low"
    [login_failures]
    max_failures = 5
    window_minutes = 2
    [unknown_or_dormant_actor]
    dormant_days = 60
    [disallowed_network.networks]
    opus-dental = ["10.20.0.0/16", "2001:db8::/32"]
    [source_silent]
    max_silence_minutes = 45
    known_days = 7
    [source_sequence_gap]
    grace_minutes = 15
  )"),
                                             options);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(options.roster_file, "/etc/innsyn/roster.toml");
  EXPECT_EQ(options.time_zone, "Europe/Berlin");
  EXPECT_THAT(options.closed_dates, ElementsAre("2026-12-24", "2026-12-25"));
  EXPECT_THAT(options.clinical_roles, ElementsAre("dentist"));
  EXPECT_THAT(options.non_staff_roles, ElementsAre("patient", "robot"));
  EXPECT_EQ(options.replay_window, absl::Hours(24 * 120));
  EXPECT_THAT(options.opening_hours.days[0], ElementsAre(Pair(480, 690), Pair(720, 960)));
  EXPECT_THAT(options.opening_hours.days[1], ElementsAre(Pair(420, 1200))) << "default kept";
  EXPECT_TRUE(options.opening_hours.days[5].empty());
  EXPECT_EQ(options.no_care_relationship.days_before, 14);
  EXPECT_EQ(options.no_care_relationship.days_after, 0);
  EXPECT_EQ(options.no_care_relationship.treatment_days, 180);
  EXPECT_EQ(options.no_care_relationship.severity, v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_FALSE(options.off_hours.enabled);
  EXPECT_EQ(options.volume_spike.floor, 40);
  EXPECT_DOUBLE_EQ(options.volume_spike.multiplier, 2.5);
  EXPECT_EQ(options.volume_spike.baseline_days, 14);
  EXPECT_EQ(options.volume_spike.min_baseline_hours, 10);
  EXPECT_EQ(options.bulk_export.max_subjects, 50);
  EXPECT_EQ(options.bulk_export.window, absl::Minutes(30));
  EXPECT_EQ(options.bulk_export.severity, v1::ALERT_SEVERITY_LOW);
  EXPECT_EQ(options.login_failures.max_failures, 5);
  EXPECT_EQ(options.login_failures.window, absl::Minutes(2));
  EXPECT_EQ(options.unknown_or_dormant_actor.dormant_days, 60);
  EXPECT_THAT(options.disallowed_network.networks_by_source,
              ElementsAre(Pair("opus-dental", ElementsAre("10.20.0.0/16", "2001:db8::/32"))));
  EXPECT_EQ(options.source_silent.max_silence, absl::Minutes(45));
  EXPECT_EQ(options.source_silent.known_days, 7);
  EXPECT_EQ(options.source_sequence_gap.grace, absl::Minutes(15));
}

TEST(DetectionOptions, ErrorsNameTheSetting) {
  EXPECT_EQ(ErrorFor("[bulk_export]\nmax_subjects = 0"),
            "config: detection.bulk_export.max_subjects must be a positive integer");
  EXPECT_EQ(ErrorFor("[bulk_export]\nmax_subjects = \"many\""),
            "config: detection.bulk_export.max_subjects must be a positive integer");
  EXPECT_EQ(ErrorFor("[no_care_relationship]\ndays_before = -1"),
            "config: detection.no_care_relationship.days_before must be an integer, 0 or more");
  EXPECT_EQ(ErrorFor("[volume_spike]\nmultiplier = 0"),
            "config: detection.volume_spike.multiplier must be a number above 0");
  EXPECT_EQ(ErrorFor("[break_glass]\nseverity = \"urgent\""),
            "config: detection.break_glass.severity must be \"low\", \"medium\", \"high\" or "
            "\"critical\"");
  EXPECT_EQ(ErrorFor("[off_hours]\nenabled = 1"),
            "config: detection.off_hours.enabled must be true or false");
  EXPECT_EQ(ErrorFor("off_hours = true"), "config: detection.off_hours must be a table");
  EXPECT_EQ(ErrorFor("time_zone = \"Mars/Olympus\""),
            "config: detection.time_zone \"Mars/Olympus\" is not a known time zone");
  EXPECT_EQ(ErrorFor("closed_dates = [\"2026-13-01\"]"),
            "config: detection.closed_dates: \"2026-13-01\" is not a date (YYYY-MM-DD)");
  EXPECT_EQ(ErrorFor("clinical_roles = \"dentist\""),
            "config: detection.clinical_roles must be a list of strings");
  EXPECT_EQ(ErrorFor("replay_window_days = 0"),
            "config: detection.replay_window_days must be a positive integer");
  EXPECT_EQ(ErrorFor("[opening_hours]\nmonday = [\"08:00-07:00\"]"),
            "config: detection.opening_hours.monday: \"08:00-07:00\" is not an interval "
            "\"HH:MM-HH:MM\"");
  EXPECT_EQ(ErrorFor("[disallowed_network.networks]\nopus = [\"10.0.0.0/40\"]"),
            "config: detection.disallowed_network.networks.opus: \"10.0.0.0/40\" is not a network "
            "(an IPv4 or IPv6 address/prefix length)");
  EXPECT_EQ(ErrorFor("[source_silent]\nmax_silence_minutes = 0"),
            "config: detection.source_silent.max_silence_minutes must be a positive integer");
}

TEST(DetectionOptions, UnknownKeysAreErrors) {
  EXPECT_EQ(ErrorFor("enable = true"), "config: unknown setting detection.enable");
  EXPECT_EQ(ErrorFor("[bulk_export]\nmax_patients = 3"),
            "config: unknown setting detection.bulk_export.max_patients");
  EXPECT_EQ(ErrorFor("[off_hours]\nfloor = 3"),
            "config: unknown setting detection.off_hours.floor");
  EXPECT_EQ(ErrorFor("[opening_hours]\nmondays = []"),
            "config: unknown setting detection.opening_hours.mondays");
}

TEST(DetectionOptions, RoleDataAndSourceSchedules) {
  DetectionOptions options;
  EXPECT_THAT(options.role_data["receptionist"], ::testing::Contains("contact_details"));
  ASSERT_TRUE(ReadDetectionOptions(Detection(R"(
    [role_data]
    front_desk = ["contact_details", "appointment"]
    [role_purposes]
    front_desk = ["administration", "patient_request"]
    [source_silent.schedules.xray]
    friday = ["07:00-12:00"]
    saturday = []
    [volume_spike]
    window_minutes = 30
    [no_care_relationship]
    referral_days = 10
  )"),
                                   options)
                  .ok());
  EXPECT_THAT(options.role_data,
              ElementsAre(Pair("front_desk", ElementsAre("contact_details", "appointment"))));
  EXPECT_THAT(options.role_purposes,
              ElementsAre(Pair("front_desk", ElementsAre("administration", "patient_request"))));
  const OpeningHours& xray = options.source_silent.schedules.at("xray");
  EXPECT_THAT(xray.days[4], ElementsAre(Pair(7 * 60, 12 * 60)));
  EXPECT_TRUE(xray.days[5].empty());
  EXPECT_THAT(xray.days[0], ElementsAre(Pair(7 * 60, 20 * 60))) << "the clinic's hours";
  EXPECT_EQ(options.volume_spike.window, absl::Minutes(30));
  EXPECT_EQ(options.no_care_relationship.referral_days, 10);
}

TEST(DetectionOptions, BadRoleDataOrScheduleIsNamed) {
  EXPECT_EQ(ErrorFor("[role_data]\nfront_desk = [\"journal\"]"),
            "config: detection.role_data.front_desk: \"journal\" is not a kind of data "
            "(journal_note, image, contact_details, invoice, referral, appointment, "
            "treatment_plan, consent, web_form, account)");
  EXPECT_EQ(ErrorFor("[role_data]\nfront_desk = [\"appointment\"]"),
            "config: detection.role_purposes: the role \"front_desk\" in role_data has no "
            "purposes here, and would go unchecked");
  EXPECT_EQ(ErrorFor("[role_purposes]\nreceptionist = [\"research\"]\nvaktmester = []"),
            "config: detection.role_purposes.vaktmester: is neither in clinical_roles nor in "
            "role_data");
  EXPECT_EQ(ErrorFor("[role_purposes]\nreceptionist = [\"forskning\"]"),
            "config: detection.role_purposes.receptionist: \"forskning\" is not a purpose "
            "(treatment, emergency, administration, billing, quality, legal, patient_request, "
            "research, system)");
  EXPECT_EQ(ErrorFor("clinical_purposes = [\"treatment\", \"teaching\"]"),
            "config: detection.clinical_purposes: \"teaching\" is not a purpose (treatment, "
            "emergency, administration, billing, quality, legal, patient_request, research, "
            "system)");
  EXPECT_EQ(ErrorFor("[source_silent.schedules.xray]\nfredag = []"),
            "config: unknown setting detection.source_silent.schedules.xray.fredag");
  EXPECT_EQ(ErrorFor("[source_silent.schedules]\nxray = 3"),
            "config: detection.source_silent.schedules.xray must be a table of weekdays");
}

}  // namespace
}  // namespace innsyn::anomaly
