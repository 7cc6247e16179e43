#include "daemon/services/validation.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "innsyn/v1/event.pb.h"
#include "innsyn/v1/service.pb.h"
#include "tests/support/test_events.h"

namespace innsyn::daemon {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2025, 3, 1, 12, 0, 0), absl::UTCTimeZone());

v1::AccessEvent ValidEvent(int n = 0) {
  return innsyn::testing::JournalRead(n, "01017012345", "tannlege-1", kNow - absl::Minutes(1));
}

// Only the fields the validator requires.
v1::AccessEvent MinimalEvent() {
  v1::AccessEvent event;
  event.set_event_id("e-1");
  event.mutable_source()->set_system("booking-web");
  event.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(kNow));
  event.mutable_actor()->set_id("web");
  event.mutable_subject()->set_id("kunde-7");
  event.mutable_subject()->set_kind(v1::SUBJECT_KIND_CUSTOMER);
  event.set_action(v1::ACTION_CODE_CREATE);
  event.set_action_subtype(v1::ACTION_SUBTYPE_CREATE);
  event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_WEB_FORM);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  return event;
}

void SetOccurredAt(v1::AccessEvent& event, absl::Time time) {
  absl::Duration since_epoch = time - absl::UnixEpoch();
  int64_t seconds = absl::IDivDuration(since_epoch, absl::Seconds(1), &since_epoch);
  event.mutable_occurred_at()->set_seconds(seconds);
  event.mutable_occurred_at()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(since_epoch)));
}

v1::AppendRequest RequestOf(std::vector<v1::AccessEvent> events) {
  v1::AppendRequest request;
  for (v1::AccessEvent& event : events) *request.add_events() = std::move(event);
  return request;
}

// The message of ValidateEvent on `event`, or "OK".
std::string Problem(const v1::AccessEvent& event) {
  absl::Status status = ValidateEvent(event, kNow);
  if (status.ok()) return "OK";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(Validation, JournalReadFromTestSupportIsValid) { EXPECT_EQ(Problem(ValidEvent()), "OK"); }

TEST(Validation, EventWithOnlyRequiredFieldsIsValid) { EXPECT_EQ(Problem(MinimalEvent()), "OK"); }

TEST(Validation, ValidRequestIsAccepted) {
  EXPECT_TRUE(ValidateAppendRequest(RequestOf({ValidEvent(0), ValidEvent(1)}), kNow).ok());
}

TEST(Validation, NorwegianTextAndEmojiAreValid) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_actor()->set_id("åse.ødegård");
  event.mutable_actor()->set_display_name("Åse Ødegård");
  event.mutable_data_object()->set_description("Røntgen 😀\nlinje to\tmed tab\r\n");
  event.set_reason("Pasienten ringte – akutt smerte");
  (*event.mutable_attributes())["avdeling"] = "Tønsberg";
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, MissingActorIdNamesTheField) {
  std::vector<v1::AccessEvent> events = {ValidEvent(0), ValidEvent(1), ValidEvent(2),
                                         ValidEvent(3)};
  events[3].mutable_actor()->clear_id();
  absl::Status status = ValidateAppendRequest(RequestOf(events), kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "events[3] (event_id \"ev-3\"): actor.id is required");
}

TEST(Validation, ValidateEventNamesTheEvent) {
  v1::AccessEvent event = ValidEvent(17);
  event.clear_outcome();
  EXPECT_EQ(Problem(event), "event (event_id \"ev-17\"): outcome is required");
}

TEST(Validation, EveryRequiredFieldIsRequired) {
  struct Case {
    std::string field;
    std::function<void(v1::AccessEvent&)> clear;
  };
  const std::vector<Case> cases = {
      {"event_id", [](v1::AccessEvent& e) { e.clear_event_id(); }},
      {"source.system", [](v1::AccessEvent& e) { e.mutable_source()->clear_system(); }},
      {"occurred_at", [](v1::AccessEvent& e) { e.clear_occurred_at(); }},
      {"actor.id", [](v1::AccessEvent& e) { e.clear_actor(); }},
      {"subject.id", [](v1::AccessEvent& e) { e.mutable_subject()->clear_id(); }},
      {"subject.kind", [](v1::AccessEvent& e) { e.mutable_subject()->clear_kind(); }},
      {"action", [](v1::AccessEvent& e) { e.clear_action(); }},
      {"action_subtype", [](v1::AccessEvent& e) { e.clear_action_subtype(); }},
      {"data_object.type", [](v1::AccessEvent& e) { e.mutable_data_object()->clear_type(); }},
      {"outcome", [](v1::AccessEvent& e) { e.clear_outcome(); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::AccessEvent event = MinimalEvent();
    c.clear(event);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, c.field + " is required", Problem(event));
  }
}

TEST(Validation, MissingEventIdIsShownAsSuch) {
  v1::AccessEvent event = ValidEvent();
  event.clear_event_id();
  EXPECT_EQ(Problem(event), "event (no event_id): event_id is required");
}

TEST(Validation, ZeroTimestampCountsAsMissing) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_occurred_at()->set_seconds(0);
  event.mutable_occurred_at()->set_nanos(0);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "occurred_at is required", Problem(event));
}

TEST(Validation, UnknownEnumValueIsRejected) {
  v1::AccessEvent event = ValidEvent(3);
  event.set_action(static_cast<v1::ActionCode>(99));
  EXPECT_EQ(Problem(event), "event (event_id \"ev-3\"): action 99 is not a known ActionCode value");
}

TEST(Validation, EveryEnumFieldRejectsUnknownValues) {
  struct Case {
    std::string field;
    std::function<void(v1::AccessEvent&)> set_unknown;
  };
  const std::vector<Case> cases = {
      {"subject.kind",
       [](v1::AccessEvent& e) { e.mutable_subject()->set_kind(static_cast<v1::SubjectKind>(42)); }},
      {"action_subtype",
       [](v1::AccessEvent& e) { e.set_action_subtype(static_cast<v1::ActionSubtype>(-1)); }},
      {"data_object.type",
       [](v1::AccessEvent& e) {
         e.mutable_data_object()->set_type(static_cast<v1::DataObjectType>(11));
       }},
      {"purpose_of_use",
       [](v1::AccessEvent& e) { e.set_purpose_of_use(static_cast<v1::PurposeOfUse>(10)); }},
      {"outcome", [](v1::AccessEvent& e) { e.set_outcome(static_cast<v1::Outcome>(6)); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    v1::AccessEvent event = ValidEvent();
    c.set_unknown(event);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, c.field + " ", Problem(event));
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "is not a known", Problem(event));
  }
}

TEST(Validation, UnspecifiedPurposeOfUseIsAllowed) {
  v1::AccessEvent event = ValidEvent();
  event.clear_purpose_of_use();
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, IdsAreLimitedToMaxIdBytes) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_subject()->set_id(std::string(kMaxIdBytes, '7'));
  EXPECT_EQ(Problem(event), "OK");
  event.mutable_subject()->set_id(std::string(kMaxIdBytes + 1, '7'));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "subject.id is 257 bytes, more than 256",
                      Problem(event));
}

TEST(Validation, OversizedFieldsAreRejected) {
  struct Case {
    std::string expected;
    std::function<void(v1::AccessEvent&)> oversize;
  };
  const std::vector<Case> cases = {
      {"event_id is 257 bytes",
       [](v1::AccessEvent& e) { e.set_event_id(std::string(kMaxIdBytes + 1, 'e')); }},
      {"actor.display_name is 1025 bytes",
       [](v1::AccessEvent& e) {
         e.mutable_actor()->set_display_name(std::string(kMaxTextBytes + 1, 'n'));
       }},
      {"user_agent is 1025 bytes",
       [](v1::AccessEvent& e) { e.set_user_agent(std::string(kMaxTextBytes + 1, 'u')); }},
      {"reason is 4097 bytes",
       [](v1::AccessEvent& e) { e.set_reason(std::string(kMaxReasonBytes + 1, 'r')); }},
      {"attributes key \"kkkk",
       [](v1::AccessEvent& e) {
         (*e.mutable_attributes())[std::string(kMaxAttributeKeyBytes + 1, 'k')] = "v";
       }},
      {"attributes[\"k\"] is 1025 bytes",
       [](v1::AccessEvent& e) {
         (*e.mutable_attributes())["k"] = std::string(kMaxAttributeValueBytes + 1, 'v');
       }},
      {"attributes has 33 entries, more than 32",
       [](v1::AccessEvent& e) {
         for (size_t i = 0; i <= kMaxAttributes; ++i) {
           (*e.mutable_attributes())["k" + std::to_string(i)] = "v";
         }
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    v1::AccessEvent event = ValidEvent();
    c.oversize(event);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, c.expected, Problem(event));
  }
}

TEST(Validation, ReasonMayBeLongerThanOtherText) {
  v1::AccessEvent event = ValidEvent();
  event.set_reason(std::string(kMaxReasonBytes, 'r'));
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, InvalidUtf8IsRejected) {
  const std::vector<std::string> invalid = {
      "\xff",              // never valid
      "\x80",              // stray continuation byte
      "\xc3",              // truncated sequence
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong '/', three bytes
      "\xed\xa0\x80",      // UTF-16 surrogate D800
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf8\x88\x80\x80\x80",
  };
  for (const std::string& bytes : invalid) {
    SCOPED_TRACE(absl::CHexEscape(bytes));
    v1::AccessEvent event = ValidEvent();
    event.mutable_actor()->set_display_name("Dr " + bytes);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "actor.display_name is not valid UTF-8 (at byte 3)",
                        Problem(event));
  }
}

TEST(Validation, ValidUtf8EdgesAreAccepted) {
  // U+0080 is a control; U+00A0, U+07FF, U+0800, U+D7FF, U+E000, U+FFFD and
  // U+10FFFF are the edges of each sequence length and of the surrogates.
  const std::vector<std::string> valid = {"\xc2\xa0",        "\xdf\xbf",     "\xe0\xa0\x80",
                                          "\xed\x9f\xbf",    "\xee\x80\x80", "\xef\xbf\xbd",
                                          "\xf4\x8f\xbf\xbf"};
  for (const std::string& bytes : valid) {
    SCOPED_TRACE(absl::CHexEscape(bytes));
    v1::AccessEvent event = ValidEvent();
    event.set_reason("x" + bytes);
    EXPECT_EQ(Problem(event), "OK");
  }
}

// Catches a string field added to the proto but not to the validator.
TEST(Validation, EveryStringFieldIsCheckedForUtf8) {
  const google::protobuf::Descriptor* event_type = v1::AccessEvent::descriptor();
  int checked = 0;
  for (int i = 0; i < event_type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = event_type->field(i);
    std::vector<std::pair<std::string, const google::protobuf::FieldDescriptor*>> targets;
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING && !field->is_repeated()) {
      targets.emplace_back(field->name(), field);
    } else if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
               !field->is_repeated()) {
      const google::protobuf::Descriptor* sub = field->message_type();
      for (int j = 0; j < sub->field_count(); ++j) {
        if (sub->field(j)->type() != google::protobuf::FieldDescriptor::TYPE_STRING) continue;
        targets.emplace_back(field->name() + "." + sub->field(j)->name(), sub->field(j));
      }
    }
    for (const auto& [path, target] : targets) {
      SCOPED_TRACE(path);
      v1::AccessEvent event = ValidEvent();
      google::protobuf::Message* holder = &event;
      if (target->containing_type() != event_type) {
        holder = event.GetReflection()->MutableMessage(&event, field);
      }
      holder->GetReflection()->SetString(holder, target, "ok\xff");
      EXPECT_PRED_FORMAT2(::testing::IsSubstring, path + " is not valid UTF-8 (at byte 2)",
                          Problem(event));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 19);
}

TEST(Validation, InvalidUtf8InAttributesIsRejected) {
  v1::AccessEvent event = ValidEvent();
  (*event.mutable_attributes())["ward"] = "\xe2\x82";
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "attributes[\"ward\"] is not valid UTF-8",
                      Problem(event));
  event.clear_attributes();
  (*event.mutable_attributes())["w\xe2\x82"] = "x";
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "attributes key \"w\\xe2\\x82\" is not valid UTF-8",
                      Problem(event));
}

TEST(Validation, ControlCharactersInIdsAreRejected) {
  const std::vector<std::string> bad_ids = {
      std::string("123\0"
                  "45",
                  6),
      "123\n45",
      "\x1b[31m12345",
      "123\x7f",
      "123\xc2\x85",
      "123\xe2\x80\xae"
      "54",  // RIGHT-TO-LEFT OVERRIDE
      "123\xe2\x80\x8b"
      "45",  // ZERO WIDTH SPACE
      "\xef\xbb\xbf"
      "12345",  // byte order mark
  };
  for (const std::string& id : bad_ids) {
    SCOPED_TRACE(absl::CHexEscape(id));
    v1::AccessEvent event = ValidEvent();
    event.mutable_subject()->set_id(id);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "subject.id contains the character U+",
                        Problem(event));
  }
}

TEST(Validation, IdsWithSurroundingSpacesAreRejected) {
  for (const std::string id : {" 12345", "12345 ", " "}) {
    SCOPED_TRACE(id);
    v1::AccessEvent event = ValidEvent();
    event.mutable_actor()->set_id(id);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "actor.id begins or ends with a space",
                        Problem(event));
  }
  v1::AccessEvent event = ValidEvent();
  event.mutable_actor()->set_id("Kari Nordmann");
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, LineBreaksAreAllowedOnlyInFreeText) {
  v1::AccessEvent event = ValidEvent();
  event.set_reason("Akutt.\nRinget pasienten.");
  EXPECT_EQ(Problem(event), "OK");
  event.mutable_actor()->set_role("dentist\nadmin");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                      "actor.role contains the character U+000A (at byte 7)", Problem(event));
  event = ValidEvent();
  event.set_reason("ok\x1b[2J");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "reason contains the character U+001B",
                      Problem(event));
}

TEST(Validation, MessagesDoNotEchoPersonalFields) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_subject()->set_id("01017012345\x01");
  std::string problem = Problem(event);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "subject.id", problem);
  EXPECT_PRED_FORMAT2(::testing::IsNotSubstring, "01017012345", problem);
}

TEST(Validation, QuotedEventIdIsEscapedAndShortened) {
  v1::AccessEvent event = ValidEvent();
  event.set_event_id("bad\nid");
  EXPECT_EQ(Problem(event),
            "event (event_id \"bad\\nid\"): event_id contains the character U+000A (at byte 3), "
            "not allowed here");
  event.set_event_id(std::string(1000, 'x'));
  EXPECT_EQ(Problem(event), "event (event_id \"" + std::string(64, 'x') +
                                "\"...): event_id is 1000 bytes, more than 256");
}

TEST(Validation, SourceMustNotContainSlash) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_source()->set_system("opus/dental");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "source.system must not contain '/'", Problem(event));
  event = ValidEvent();
  event.mutable_source()->set_instance("clinic/1");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "source.instance must not contain '/'",
                      Problem(event));
}

TEST(Validation, FutureTimestampIsRejected) {
  v1::AccessEvent event = ValidEvent();
  SetOccurredAt(event,
                absl::FromCivil(absl::CivilSecond(2031, 1, 1, 0, 0, 0), absl::UTCTimeZone()));
  absl::Status status = ValidateAppendRequest(RequestOf({event}), kNow);
  EXPECT_EQ(status.message(),
            "events[0] (event_id \"ev-0\"): occurred_at 2031-01-01T00:00:00Z is more than 5m in "
            "the future");
}

TEST(Validation, ClockSkewIsToleratedUpToTheLimit) {
  v1::AccessEvent event = ValidEvent();
  SetOccurredAt(event, kNow + kMaxClockSkew);
  EXPECT_EQ(Problem(event), "OK");
  SetOccurredAt(event, kNow + kMaxClockSkew + absl::Nanoseconds(1));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "is more than 5m in the future", Problem(event));
}

TEST(Validation, OldButPost1970TimestampsAreAccepted) {
  v1::AccessEvent event = ValidEvent();
  SetOccurredAt(event,
                absl::FromCivil(absl::CivilSecond(2009, 6, 1, 8, 0, 0), absl::UTCTimeZone()));
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, TimestampBefore1970IsRejected) {
  v1::AccessEvent event = ValidEvent();
  event.mutable_occurred_at()->set_seconds(-1);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                      "occurred_at 1969-12-31T23:59:59Z is before 1970-01-01", Problem(event));
}

TEST(Validation, MalformedTimestampIsRejected) {
  const std::vector<std::pair<int64_t, int32_t>> malformed = {
      {1700000000, -1}, {1700000000, 1000000000}, {253402300800, 0}, {-62135596801, 0}};
  for (const auto& [seconds, nanos] : malformed) {
    SCOPED_TRACE(seconds);
    v1::AccessEvent event = ValidEvent();
    event.mutable_occurred_at()->set_seconds(seconds);
    event.mutable_occurred_at()->set_nanos(nanos);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "is not a valid timestamp", Problem(event));
  }
}

TEST(Validation, DiscloseWithoutRecipientIsRejected) {
  v1::AccessEvent event = ValidEvent();
  event.set_action(v1::ACTION_CODE_READ);
  event.set_action_subtype(v1::ACTION_SUBTYPE_DISCLOSE);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                      "recipient.id or recipient.name is required for ACTION_SUBTYPE_DISCLOSE",
                      Problem(event));
  event.mutable_recipient()->set_name("  ");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "recipient.id or recipient.name is required",
                      Problem(event));
  event.mutable_recipient()->set_name("Helfo");
  EXPECT_EQ(Problem(event), "OK");
  event.mutable_recipient()->clear_name();
  event.mutable_recipient()->set_id("986152884");
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, BreakGlassRequiresReason) {
  v1::AccessEvent event = ValidEvent();
  event.set_action_subtype(v1::ACTION_SUBTYPE_BREAK_GLASS);
  event.set_reason(" \n ");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "reason is required for ACTION_SUBTYPE_BREAK_GLASS",
                      Problem(event));
  event.set_reason("Bevisstløs pasient, akutt behandling");
  EXPECT_EQ(Problem(event), "OK");
}

TEST(Validation, LoginEventsRequireExecute) {
  for (v1::ActionSubtype subtype :
       {v1::ACTION_SUBTYPE_LOGIN, v1::ACTION_SUBTYPE_LOGIN_FAILED, v1::ACTION_SUBTYPE_LOGOUT}) {
    SCOPED_TRACE(v1::ActionSubtype_Name(subtype));
    v1::AccessEvent event = ValidEvent();
    event.set_action_subtype(subtype);
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_ACCOUNT);
    event.set_outcome(subtype == v1::ACTION_SUBTYPE_LOGIN_FAILED ? v1::OUTCOME_DENIED
                                                                 : v1::OUTCOME_SUCCESS);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                        "action must be ACTION_CODE_EXECUTE for " +
                            v1::ActionSubtype_Name(subtype) + ", not ACTION_CODE_READ",
                        Problem(event));
    event.set_action(v1::ACTION_CODE_EXECUTE);
    EXPECT_EQ(Problem(event), "OK");
  }
}

TEST(Validation, FailedLoginCannotSucceed) {
  v1::AccessEvent event = ValidEvent();
  event.set_action(v1::ACTION_CODE_EXECUTE);
  event.set_action_subtype(v1::ACTION_SUBTYPE_LOGIN_FAILED);
  event.set_outcome(v1::OUTCOME_SUCCESS);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring,
                      "outcome must not be OUTCOME_SUCCESS for ACTION_SUBTYPE_LOGIN_FAILED",
                      Problem(event));
}

TEST(Validation, ConsentEventsConcernConsent) {
  for (v1::ActionSubtype subtype :
       {v1::ACTION_SUBTYPE_CONSENT_GIVEN, v1::ACTION_SUBTYPE_CONSENT_WITHDRAWN}) {
    SCOPED_TRACE(v1::ActionSubtype_Name(subtype));
    v1::AccessEvent event = ValidEvent();
    event.set_action(v1::ACTION_CODE_UPDATE);
    event.set_action_subtype(subtype);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "data_object.type must be DATA_OBJECT_TYPE_CONSENT",
                        Problem(event));
    event.mutable_data_object()->set_type(v1::DATA_OBJECT_TYPE_CONSENT);
    EXPECT_EQ(Problem(event), "OK");
  }
}

TEST(Validation, NetworkAddressMustBeAnIpAddress) {
  for (const std::string address : {"10.0.0.17", "192.168.1.254", "2001:db8::1", "::1",
                                    "::ffff:10.0.0.1", "fe80::1ff:fe23:4567:890a"}) {
    SCOPED_TRACE(address);
    v1::AccessEvent event = ValidEvent();
    event.set_network_address(address);
    EXPECT_EQ(Problem(event), "OK");
  }
  for (const std::string& address :
       {std::string("10.0.0.1\0evil", 13), std::string("10.0.0.256"), std::string("localhost"),
        std::string("10.0.0"), std::string("010.0.0.1"), std::string("10.0.0.1:443"),
        std::string("[::1]"), std::string("fe80::1%eth0"), std::string(" 10.0.0.1")}) {
    SCOPED_TRACE(absl::CHexEscape(address));
    v1::AccessEvent event = ValidEvent();
    event.set_network_address(address);
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "network_address", Problem(event));
  }
}

TEST(Validation, UnknownFieldsAreRejected) {
  v1::AccessEvent event = ValidEvent();
  event.GetReflection()->MutableUnknownFields(&event)->AddVarint(99, 1);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "unknown field 99", Problem(event));

  event = ValidEvent();
  v1::Actor* actor = event.mutable_actor();
  actor->GetReflection()->MutableUnknownFields(actor)->AddLengthDelimited(9, "x");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "actor has unknown field 9", Problem(event));

  event = ValidEvent();
  google::protobuf::Timestamp* at = event.mutable_occurred_at();
  at->GetReflection()->MutableUnknownFields(at)->AddFixed32(7, 1);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "occurred_at has unknown field 7", Problem(event));
}

TEST(Validation, UnknownFieldsFromTheWireAreRejected) {
  std::string bytes = ValidEvent().SerializeAsString();
  bytes.append("\xa8\x01\x01", 3);  // field 21, varint 1
  v1::AccessEvent event;
  ASSERT_TRUE(event.ParseFromString(bytes));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "unknown field 21", Problem(event));
}

TEST(Validation, EmptyRequestIsRejected) {
  absl::Status status = ValidateAppendRequest(v1::AppendRequest(), kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "request has no events");
}

TEST(Validation, TooManyEventsAreRejected) {
  v1::AppendRequest request;
  for (size_t i = 0; i < kMaxEventsPerRequest; ++i) {
    *request.add_events() = ValidEvent(static_cast<int>(i));
  }
  EXPECT_TRUE(ValidateAppendRequest(request, kNow).ok());
  *request.add_events() = ValidEvent(static_cast<int>(kMaxEventsPerRequest));
  absl::Status status = ValidateAppendRequest(request, kNow);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "request has 10001 events, more than 10000");
}

TEST(Validation, FirstInvalidEventRejectsTheRequest) {
  std::vector<v1::AccessEvent> events = {ValidEvent(0), ValidEvent(1), ValidEvent(2)};
  events[1].mutable_subject()->clear_kind();
  events[2].clear_action();
  absl::Status status = ValidateAppendRequest(RequestOf(events), kNow);
  EXPECT_EQ(status.message(), "events[1] (event_id \"ev-1\"): subject.kind is required");
}

TEST(Validation, ConflictingRepeatOfAnEventIsRejected) {
  v1::AccessEvent first = ValidEvent(5);
  v1::AccessEvent second = ValidEvent(5);
  second.mutable_subject()->set_id("02028054321");
  absl::Status status = ValidateAppendRequest(RequestOf({ValidEvent(1), first, second}), kNow);
  EXPECT_EQ(status.message(),
            "events[2] (event_id \"ev-5\"): repeats the source and event_id of events[1] with "
            "different contents");
}

TEST(Validation, IdenticalRepeatOfAnEventIsAllowed) {
  EXPECT_TRUE(ValidateAppendRequest(RequestOf({ValidEvent(5), ValidEvent(5)}), kNow).ok());
}

TEST(Validation, SameEventIdFromAnotherSourceIsAllowed) {
  v1::AccessEvent other = ValidEvent(5);
  other.mutable_source()->set_instance("clinic-2");
  other.mutable_subject()->set_id("02028054321");
  EXPECT_TRUE(ValidateAppendRequest(RequestOf({ValidEvent(5), other}), kNow).ok());
}

}  // namespace
}  // namespace innsyn::daemon
