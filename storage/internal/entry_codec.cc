#include "storage/internal/entry_codec.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/time/civil_time.h"
#include "base/proto_time.h"
#include "base/strings.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "storage/hash.h"
#include "storage/internal/schema.h"
#include "storage/subject_map.h"

namespace innsyn::storage::internal {
namespace {

constexpr std::string_view kAadPrefix = "innsyn entry ";
constexpr std::string_view kClinicOwner = "clinic";
constexpr int64_t kSecondsPerHour = 3600;

int64_t HourOf(absl::Time time) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  const int64_t floor = seconds / kSecondsPerHour - (seconds % kSecondsPerHour < 0 ? 1 : 0);
  return floor * kSecondsPerHour;
}

int YearOf(absl::Time time) {
  return static_cast<int>(absl::ToCivilYear(time, absl::UTCTimeZone()).year());
}

}  // namespace

std::string DataObjectClass(v1::DataObjectType type) {
  std::string name = v1::DataObjectType_Name(type);
  constexpr std::string_view kPrefix = "DATA_OBJECT_TYPE_";
  if (name.starts_with(kPrefix)) name.erase(0, kPrefix.size());
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

namespace {

std::string Owner(char kind, std::string_view pseudonym) {
  return StrCat(std::string(1, kind), ".", ToHex(pseudonym));
}

std::string KeyBase(std::string_view owner, std::string_view key_class, absl::Time when) {
  return StrCat(owner, "/", key_class, "/", YearOf(when));
}

// The owner of a record about `subject_id` or, without one, `actor_id`:
// its data key is that person's, so that erasing them shreds it.
struct People {
  std::string subject;  // pseudonyms, empty if none
  std::string actor;
};

std::string OwnerOf(const People& people) {
  if (!people.subject.empty()) return Owner('s', people.subject);
  if (!people.actor.empty()) return Owner('a', people.actor);
  return std::string(kClinicOwner);
}

}  // namespace

std::string SerializeDeterministic(const google::protobuf::MessageLite& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

namespace {

std::string EventKeyBaseOf(const v1::AccessEvent& event, std::string_view subject_pseudonym) {
  return KeyBase(Owner('s', subject_pseudonym), DataObjectClass(event.data_object().type()),
                 FromProto(event.occurred_at()));
}

}  // namespace

EntryHeader DescribeEvent(const v1::AccessEvent& event, bool baseline,
                          const Pseudonymizer& pseudonymizer) {
  EntryHeader out;
  v1::SealedEntry& h = out.header;
  // A baseline entry's header is an access event's, but for its kind.
  h.set_kind(baseline ? v1::ENTRY_KIND_BASELINE : v1::ENTRY_KIND_ACCESS_EVENT);
  h.set_hour(HourOf(FromProto(event.occurred_at())));
  h.set_source_system(event.source().system());
  // The subject's pseudonym names the key even when the id is empty (which
  // validation refuses), but only a subject's is put in the header.
  const std::string subject =
      pseudonymizer.Pseudonym(PseudonymDomain::kSubject, event.subject().id());
  if (!event.subject().id().empty()) h.set_subject(subject);
  if (!event.actor().id().empty()) {
    h.set_actor(pseudonymizer.Pseudonym(PseudonymDomain::kActor, event.actor().id()));
  }
  std::string event_key;
  AppendDedupeKey(event_key, event.source().system(), event.source().instance(), event.event_id());
  h.set_event(pseudonymizer.Pseudonym(PseudonymDomain::kEvent, event_key));
  out.key_base = EventKeyBaseOf(event, subject);
  return out;
}

EntryHeader DescribeEntry(const v1::LedgerEntry& entry, const Pseudonymizer& pseudonymizer) {
  EntryHeader out;
  v1::SealedEntry& h = out.header;
  const absl::Time committed_at = FromProto(entry.committed_at());
  h.set_hour(HourOf(committed_at));
  auto pseudonyms = [&](const std::string& subject_id, const std::string& actor_id) {
    People people;
    if (!subject_id.empty()) {
      people.subject = pseudonymizer.Pseudonym(PseudonymDomain::kSubject, subject_id);
      h.set_subject(people.subject);
    }
    if (!actor_id.empty()) {
      people.actor = pseudonymizer.Pseudonym(PseudonymDomain::kActor, actor_id);
      h.set_actor(people.actor);
    }
    return people;
  };
  switch (entry.body_case()) {
    case v1::LedgerEntry::kAccessEvent:
      return DescribeEvent(entry.access_event(), false, pseudonymizer);
    case v1::LedgerEntry::kBaseline:
      return DescribeEvent(entry.baseline().event(), true, pseudonymizer);
    case v1::LedgerEntry::kQueryRecord: {
      const v1::QueryRecord& query = entry.query_record();
      h.set_kind(v1::ENTRY_KIND_QUERY_RECORD);
      People people = pseudonyms(query.subject_id(), query.actor_id());
      // A query about no one in particular is the caller's own.
      if (people.subject.empty() && people.actor.empty() && !query.caller().empty()) {
        people.actor = pseudonymizer.Pseudonym(PseudonymDomain::kActor, query.caller());
      }
      out.key_base = KeyBase(OwnerOf(people), "query", committed_at);
      break;
    }
    case v1::LedgerEntry::kAlert: {
      h.set_kind(v1::ENTRY_KIND_ALERT);
      h.set_source_system(entry.alert().source_system());
      const People people = pseudonyms(entry.alert().subject_id(), entry.alert().actor_id());
      out.key_base = KeyBase(OwnerOf(people), "alert", committed_at);
      break;
    }
    case v1::LedgerEntry::kAlertDecision: {
      const v1::AlertDecision& decision = entry.alert_decision();
      h.set_kind(v1::ENTRY_KIND_ALERT_DECISION);
      const People people = pseudonyms(decision.subject_id(), decision.actor_id());
      out.key_base = KeyBase(OwnerOf(people), "alert", committed_at);
      break;
    }
    case v1::LedgerEntry::kErasure:
      h.set_kind(v1::ENTRY_KIND_ERASURE);
      h.set_subject(entry.erasure().subject());
      break;
    case v1::LedgerEntry::kRetentionRun: h.set_kind(v1::ENTRY_KIND_RETENTION_RUN); break;
    case v1::LedgerEntry::BODY_NOT_SET: break;
  }
  return out;
}

std::optional<KeyIdParts> ParseKeyId(std::string_view key_id) {
  std::vector<std::string_view> parts = Split(key_id, '/');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) return std::nullopt;
  KeyIdParts out;
  out.owner = parts[0];
  out.key_class = parts[1];
  std::string_view year = parts[2];
  if (size_t hash = year.find('#'); hash != std::string_view::npos) {
    std::optional<uint64_t> generation = ParseDecimal(year.substr(hash + 1));
    if (!generation || *generation < 2) return std::nullopt;
    out.generation = static_cast<int>(*generation);
    year = year.substr(0, hash);
  }
  std::optional<uint64_t> parsed = ParseDecimal(year);
  if (!parsed || *parsed > 9999) return std::nullopt;
  out.year = static_cast<int>(*parsed);
  return out;
}

absl::Time PeriodEnd(int year) {
  return absl::FromCivil(absl::CivilYear(year + 1), absl::UTCTimeZone());
}

std::string EntryAad(uint64_t seq, std::string_view key_id) {
  std::string aad(kAadPrefix);
  AppendBigEndian64(aad, seq);
  aad.append(key_id);
  return aad;
}

namespace {

// Appends `message` to `bytes` as a length-delimited field `number`,
// deterministically: serialized with that field set, a message whose set
// fields all have lower numbers gives `bytes` followed by exactly this.
void AppendMessageField(std::string& bytes, int number,
                        const google::protobuf::MessageLite& message) {
  google::protobuf::io::StringOutputStream stream(&bytes);  // appends
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
      number, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  coded.WriteVarint32(static_cast<uint32_t>(message.ByteSizeLong()));
  message.SerializeWithCachedSizes(&coded);
}

EncodedEntry Finish(v1::SealedEntry& header, const v1::LedgerEntry& entry, std::string_view key_id,
                    const DataKey* key, const std::string_view* nonce,
                    const v1::AccessEvent* access_event) {
  std::string contents = SerializeDeterministic(entry);
  if (access_event != nullptr) {
    // The body is the last field set (seq 1, committed_at 2, the body 3
    // to 9), and the writer's entries have no unknown fields.
    if (entry.body_case() != v1::LedgerEntry::BODY_NOT_SET ||
        !entry.GetReflection()->GetUnknownFields(entry).empty()) {
      std::abort();
    }
    AppendMessageField(contents, v1::LedgerEntry::kAccessEventFieldNumber, *access_event);
  }
  if (key == nullptr) {
    header.clear_key_id();
    header.set_clear(std::move(contents));
  } else {
    header.set_key_id(std::string(key_id));
    const std::string aad = EntryAad(header.seq(), key_id);
    header.set_sealed(nonce == nullptr ? Seal(*key, contents, aad)
                                       : SealWithNonce(*key, *nonce, contents, aad));
  }
  EncodedEntry out;
  out.bytes = SerializeDeterministic(header);
  // What a history links by; these bytes are always wire format.
  out.header_hash = HeaderHashOf(out.bytes).value();
  return out;
}

}  // namespace

EncodedEntry EncodeEntry(v1::SealedEntry header, const v1::LedgerEntry& entry,
                         std::string_view key_id, const DataKey* key,
                         const v1::AccessEvent* access_event) {
  return Finish(header, entry, key_id, key, nullptr, access_event);
}

EncodedEntry EncodeEntryWithNonce(v1::SealedEntry header, const v1::LedgerEntry& entry,
                                  std::string_view key_id, const DataKey& key,
                                  std::string_view nonce, const v1::AccessEvent* access_event) {
  return Finish(header, entry, key_id, &key, &nonce, access_event);
}

absl::StatusOr<v1::SealedEntry> ParseStored(std::string_view bytes, uint64_t seq) {
  v1::SealedEntry stored;
  if (!stored.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(StrCat("entry ", seq, " does not parse as a SealedEntry"));
  }
  if (stored.seq() != seq) {
    return absl::DataLossError(StrCat("entry ", seq, " says it is seq ", stored.seq()));
  }
  return stored;
}

absl::StatusOr<v1::LedgerEntry> OpenEntry(const v1::SealedEntry& stored, const DataKey* key) {
  v1::LedgerEntry entry;
  std::string opened;
  const std::string* contents = &stored.clear();
  if (!stored.key_id().empty()) {
    if (key == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("entry ", stored.seq(), ": no data key ", stored.key_id()));
    }
    absl::StatusOr<std::string> unsealed =
        Unseal(*key, stored.sealed(), EntryAad(stored.seq(), stored.key_id()));
    if (!unsealed.ok()) {
      return absl::DataLossError(StrCat("entry ", stored.seq(), " does not open under data key ",
                                        stored.key_id(), ": ", unsealed.status().message()));
    }
    opened = *std::move(unsealed);
    contents = &opened;
  }
  if (!entry.ParseFromString(*contents) || entry.seq() != stored.seq()) {
    return absl::DataLossError(StrCat("entry ", stored.seq(), ": its contents do not parse"));
  }
  return entry;
}

}  // namespace innsyn::storage::internal
