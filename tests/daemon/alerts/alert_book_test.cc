#include "daemon/alerts/alert_book.h"

#include <gtest/gtest.h>

namespace innsyn::daemon {
namespace {

v1::LedgerEntry Raised(const std::string& id, const std::string& rule, int64_t occurred) {
  v1::LedgerEntry entry;
  entry.mutable_alert()->set_alert_id(id);
  entry.mutable_alert()->set_rule(rule);
  entry.mutable_alert()->set_severity(v1::ALERT_SEVERITY_HIGH);
  entry.mutable_alert()->mutable_occurred_at()->set_seconds(occurred);
  return entry;
}

v1::LedgerEntry Decided(const std::string& id, v1::AlertState state) {
  v1::LedgerEntry entry;
  entry.mutable_alert_decision()->set_alert_id(id);
  entry.mutable_alert_decision()->set_state(state);
  return entry;
}

TEST(AlertBook, DecisionsChangeTheStateInLedgerOrderAndAnAckDoesNotReopen) {
  AlertBook book;
  EXPECT_TRUE(book.Apply(3, Raised("a", "break_glass", 100)));
  EXPECT_TRUE(book.Apply(5, Decided("a", v1::ALERT_STATE_RESOLVED_JUSTIFIED)));
  EXPECT_TRUE(book.Apply(6, Decided("a", v1::ALERT_STATE_ACKNOWLEDGED)));  // raced the resolution
  v1::AlertView view = *book.Find("a");
  EXPECT_EQ(view.state(), v1::ALERT_STATE_RESOLVED_JUSTIFIED);
  EXPECT_EQ(view.decisions_size(), 2);  // both are in the ledger, so both are listed
  EXPECT_TRUE(book.Apply(7, Decided("a", v1::ALERT_STATE_RESOLVED_VIOLATION)));
  EXPECT_EQ(book.Find("a")->state(), v1::ALERT_STATE_RESOLVED_VIOLATION);
  EXPECT_TRUE(book.UnresolvedCounts().empty());
}

TEST(AlertBook, EntriesReadAgainByAReplayChangeNothing) {
  AlertBook book;
  book.Apply(3, Raised("a", "break_glass", 100));
  book.Apply(5, Decided("a", v1::ALERT_STATE_ACKNOWLEDGED));
  EXPECT_FALSE(book.Apply(3, Raised("a", "break_glass", 100)));
  EXPECT_FALSE(book.Apply(5, Decided("a", v1::ALERT_STATE_ACKNOWLEDGED)));
  EXPECT_EQ(book.Find("a")->decisions_size(), 1);
  EXPECT_EQ(book.UpdatesAfter(0, 10).size(), 2u);
  EXPECT_FALSE(book.Apply(9, Decided("unknown", v1::ALERT_STATE_ACKNOWLEDGED)));
}

// Incidents group by the day of the zone set, page by their first alert,
// and take their state from their alerts.
TEST(AlertBook, IncidentsGroupByTheZonesDayAndPageByTheirFirstAlert) {
  auto about = [](v1::LedgerEntry entry, const std::string& actor, const std::string& subject) {
    entry.mutable_alert()->set_actor_id(actor);
    entry.mutable_alert()->set_subject_id(subject);
    return entry;
  };
  constexpr int64_t kEvening = 1'795'386'600;  // 2026-11-22T22:30:00Z: 23:30 in Oslo
  AlertBook book;
  book.Apply(1, about(Raised("a", "off_hours", kEvening), "ola", "p1"));
  book.Apply(2, about(Raised("b", "off_hours", kEvening + 3600), "ola", "p2"));  // 00:30 Oslo
  book.Apply(3, about(Raised("c", "off_hours", kEvening + 600), "ola", "p3"));
  book.Apply(4, Decided("a", v1::ALERT_STATE_RESOLVED_JUSTIFIED));
  bool more = false;
  // In UTC, the zone until one is set, all three are on the 22nd.
  std::vector<v1::Incident> incidents = book.ListIncidents({}, 0, 10, more);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].incident_id(), "off_hours/ola/2026-11-22");
  EXPECT_EQ(incidents[0].state(), v1::ALERT_STATE_OPEN);
  absl::TimeZone oslo;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Oslo", &oslo));
  book.SetIncidentTimeZone(oslo);
  incidents = book.ListIncidents({}, 0, 1, more);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_TRUE(more);
  EXPECT_EQ(incidents[0].incident_id(), "off_hours/ola/2026-11-22");
  EXPECT_EQ(incidents[0].alerts_size(), 2);  // a and c
  EXPECT_EQ(incidents[0].subject_ids(1), "p3");
  incidents = book.ListIncidents({}, incidents[0].alerts(0).seq(), 1, more);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_FALSE(more);
  EXPECT_EQ(incidents[0].incident_id(), "off_hours/ola/2026-11-23");

  EXPECT_EQ(IncidentState({v1::ALERT_STATE_RESOLVED_JUSTIFIED, v1::ALERT_STATE_ACKNOWLEDGED}),
            v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(
      IncidentState({v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE, v1::ALERT_STATE_RESOLVED_VIOLATION}),
      v1::ALERT_STATE_RESOLVED_VIOLATION);
  EXPECT_EQ(IncidentState({v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE}),
            v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE);
}

TEST(AlertBook, ListFiltersAndPagesInTheOrderRaised) {
  AlertBook book;
  book.Apply(1, Raised("a", "off_hours", 100));
  book.Apply(2, Raised("b", "break_glass", 200));
  book.Apply(3, Raised("c", "off_hours", 300));
  book.Apply(4, Decided("a", v1::ALERT_STATE_RESOLVED_FALSE_POSITIVE));
  bool more = false;
  AlertFilter off_hours;
  off_hours.rule = "off_hours";
  std::vector<v1::AlertView> page = book.List(off_hours, 0, 1, more);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].alert().alert_id(), "a");
  EXPECT_TRUE(more);
  page = book.List(off_hours, page[0].seq(), 1, more);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].alert().alert_id(), "c");
  EXPECT_FALSE(more);
  AlertFilter open;
  open.states = {v1::ALERT_STATE_OPEN};
  open.from = absl::FromUnixSeconds(150);
  page = book.List(open, 0, 10, more);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].alert().alert_id(), "b");
  EXPECT_EQ((book.UnresolvedCounts()[{"off_hours", "high"}]), 1u);
}

}  // namespace
}  // namespace innsyn::daemon
