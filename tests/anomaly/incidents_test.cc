// Alerts grouped into incidents: one rule, one actor, one Oslo day is one
// incident listing its patients, whatever the order the alerts came in;
// the day follows Oslo's midnight, not UTC's.
#include "anomaly/incidents.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"

namespace innsyn::anomaly {
namespace {

absl::TimeZone Oslo() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Oslo", &zone));
  return zone;
}

v1::Alert MakeAlert(const std::string& rule, const std::string& actor, const std::string& subject,
                    const char* rfc3339, v1::AlertSeverity severity = v1::ALERT_SEVERITY_HIGH) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error)) << error;
  v1::Alert alert;
  alert.set_rule(rule);
  alert.set_actor_id(actor);
  alert.set_subject_id(subject);
  alert.set_severity(severity);
  alert.set_alert_id(absl::StrCat(rule, "/", actor, "/", subject, "/", rfc3339));
  *alert.mutable_occurred_at() = ToProto(time);
  return alert;
}

std::vector<Incident> Group(const std::vector<v1::Alert>& alerts) {
  std::vector<const v1::Alert*> pointers;
  for (const v1::Alert& alert : alerts) pointers.push_back(&alert);
  return GroupIntoIncidents(pointers, Oslo());
}

TEST(Incidents, OneRuleOneActorOneOsloDayIsOneIncident) {
  const std::vector<v1::Alert> alerts = {
      MakeAlert("no_care_relationship", "ola", "p1", "2026-11-20T08:00:00Z"),
      MakeAlert("no_care_relationship", "kari", "p1", "2026-11-20T08:30:00Z"),
      MakeAlert("no_care_relationship", "ola", "p2", "2026-11-20T09:00:00Z",
                v1::ALERT_SEVERITY_CRITICAL),
      MakeAlert("off_hours", "ola", "p3", "2026-11-20T09:30:00Z"),
      MakeAlert("no_care_relationship", "ola", "p1", "2026-11-20T10:00:00Z"),
      // 23:30Z on the 20th is 00:30 on the 21st in Oslo (winter, +1).
      MakeAlert("no_care_relationship", "ola", "p4", "2026-11-20T23:30:00Z"),
  };
  const std::vector<Incident> incidents = Group(alerts);
  ASSERT_EQ(incidents.size(), 4u);
  const Incident& ola = incidents[0];
  EXPECT_EQ(ola.incident_id, "no_care_relationship/ola/2026-11-20");
  EXPECT_EQ(ola.rule, "no_care_relationship");
  EXPECT_EQ(ola.actor_id, "ola");
  EXPECT_EQ(ola.local_date, "2026-11-20");
  EXPECT_EQ(ola.alerts, (std::vector<size_t>{0, 2, 4}));
  EXPECT_EQ(ola.subject_ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(ola.severity, v1::ALERT_SEVERITY_CRITICAL);
  EXPECT_EQ(incidents[1].incident_id, "no_care_relationship/kari/2026-11-20");
  EXPECT_EQ(incidents[2].incident_id, "off_hours/ola/2026-11-20");
  EXPECT_EQ(incidents[3].incident_id, "no_care_relationship/ola/2026-11-21");
  EXPECT_EQ(incidents[3].alerts, (std::vector<size_t>{5}));
}

TEST(Incidents, AnAlertAboutNoActorStandsAlone) {
  std::vector<v1::Alert> alerts = {
      MakeAlert("source_silent", "", "", "2026-11-20T08:00:00Z"),
      MakeAlert("source_silent", "", "", "2026-11-20T09:00:00Z"),
  };
  alerts[0].set_alert_id("source_silent/xray/1");
  alerts[1].set_alert_id("source_silent/journal/1");
  const std::vector<Incident> incidents = Group(alerts);
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_EQ(incidents[0].incident_id, "source_silent/xray/1");
  EXPECT_TRUE(incidents[0].subject_ids.empty());
  EXPECT_EQ(IncidentId(alerts[1], Oslo()), "source_silent/journal/1");
}

TEST(Incidents, NoAlertsNoIncidents) { EXPECT_TRUE(Group({}).empty()); }

}  // namespace
}  // namespace innsyn::anomaly
