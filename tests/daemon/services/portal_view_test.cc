#include "daemon/services/portal_view.h"

#include <gtest/gtest.h>

#include "tests/support/test_events.h"

namespace innsyn::daemon {
namespace {

TEST(PortalView, KeepsWhoWhatWhyAndDropsInternalFields) {
  v1::LedgerEntry entry;
  v1::AccessEvent& event = *entry.mutable_access_event();
  event = testing::JournalRead(1, "01017012345", "dr-hansen");
  event.set_reason("free text");
  event.set_workstation("surgery-2");
  event.set_network_address("10.1.0.12");
  event.set_user_agent("agent");
  event.set_source_seq(77);
  (*event.mutable_attributes())["k"] = "v";
  event.mutable_data_object()->set_description("desc");
  event.mutable_recipient()->set_name("NAV");
  v1::AccessEvent before = event;
  MinimiseForPortal(entry);
  EXPECT_TRUE(event.reason().empty());
  EXPECT_TRUE(event.workstation().empty());
  EXPECT_TRUE(event.network_address().empty());
  EXPECT_TRUE(event.user_agent().empty());
  EXPECT_TRUE(event.attributes().empty());
  EXPECT_TRUE(event.data_object().description().empty());
  EXPECT_TRUE(event.event_id().empty());
  EXPECT_EQ(event.source_seq(), 0u);
  EXPECT_EQ(event.actor().SerializeAsString(), before.actor().SerializeAsString());
  EXPECT_EQ(event.occurred_at().seconds(), before.occurred_at().seconds());
  EXPECT_EQ(event.purpose_of_use(), before.purpose_of_use());
  EXPECT_EQ(event.data_object().type(), before.data_object().type());
  EXPECT_EQ(event.recipient().name(), "NAV");
}

}  // namespace
}  // namespace innsyn::daemon
