#include "ctl/completeness.h"

#include <map>
#include <string>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "base/proto_time.h"
#include "ctl/command.h"
#include "ctl/format.h"
#include "storage/merkle.h"

namespace innsyn::ctl {
namespace {

// The entry's own time as the answer or proof gives it, if any.
std::optional<absl::Time> GivenTime(const v1::RecordedEntry& recorded) {
  const v1::LedgerEntry& entry = recorded.entry();
  if (entry.has_access_event() && entry.access_event().has_occurred_at()) {
    return FromProto(entry.access_event().occurred_at());
  }
  if (entry.has_committed_at()) return FromProto(entry.committed_at());
  return std::nullopt;
}

google::protobuf::Timestamp HourStamp(const v1::SealedEntry& header) {
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(header.hour());
  return stamp;
}

bool InPeriod(absl::Time time, const AnswerToCheck& answer) {
  return (!answer.from || time >= *answer.from) && (!answer.to || time < *answer.to);
}

// Whether the answer must hold a history entry of `hour`: by its hour
// alone, unless the period's start or end cuts that hour; then by the time
// `link` gives (or, for an erased entry, whose time is gone, by the hour).
absl::StatusOr<bool> Belongs(const storage::HistoryLink& checked, const v1::RecordedEntry& link,
                             const AnswerToCheck& answer) {
  const absl::Time hour = absl::FromUnixSeconds(checked.header.hour());
  const absl::Time end = hour + absl::Hours(1);
  const bool starts_inside = !answer.from || hour >= *answer.from;
  const bool ends_inside = !answer.to || end <= *answer.to;
  if (starts_inside && ends_inside) return true;
  if ((answer.from && end <= *answer.from) || (answer.to && hour >= *answer.to)) return false;
  if (link.erased()) return true;
  std::optional<absl::Time> time = GivenTime(link);
  if (!time) {
    return VerificationFailure(absl::StrCat("the proof does not give the time of entry ",
                                            checked.seq, ", whose hour the period cuts"));
  }
  if (*time < hour || *time >= end) {
    return VerificationFailure(absl::StrCat("the time given for entry ", checked.seq,
                                            " is outside the hour its signed header records"));
  }
  return InPeriod(*time, answer);
}

}  // namespace

absl::StatusOr<ProvenHistory> CheckHistory(Trust& trust, storage::MapSpace space,
                                           uint64_t tree_size, const v1::HistoryProof& proof) {
  absl::StatusOr<storage::CheckpointBody> body =
      trust.VerifyNote(proof.checkpoint().note(), proof.checkpoint());
  if (!body.ok()) return body.status();
  if (body->tree_size != tree_size) {
    return VerificationFailure(absl::StrCat("the answer is of a tree of ", tree_size,
                                            " entries, its proof's checkpoint of ",
                                            body->tree_size));
  }
  if (!body->map_root) {
    return VerificationFailure(absl::StrCat("the checkpoint of size ", body->tree_size,
                                            " has no map line: completeness cannot be proven"));
  }
  std::vector<storage::GivenHeader> chain;
  chain.reserve(proof.chain_size());
  for (const v1::RecordedEntry& link : proof.chain()) {
    chain.push_back({link.header_bytes(), link.contents_hash()});
  }
  absl::StatusOr<std::vector<storage::HistoryLink>> entries =
      storage::VerifyHistory(*body->map_root, space, proof.pseudonym(), proof.map(), chain);
  if (!entries.ok()) return VerificationFailure(std::string(entries.status().message()));
  return ProvenHistory{*std::move(entries), *std::move(body)};
}

absl::StatusOr<CompleteAnswer> CheckComplete(Trust& trust, const AnswerToCheck& answer) {
  const v1::HistoryProof& proof = *answer.proof;
  const char* whose = answer.space == storage::MapSpace::kSubject ? "subject" : "actor";
  absl::StatusOr<ProvenHistory> proven = CheckHistory(trust, answer.space, answer.tree_size, proof);
  if (!proven.ok()) return proven.status();
  const std::vector<storage::HistoryLink>& history = proven->entries;

  // The answer, by seq: each entry once, and in the order of the index
  // (hour, then seq).
  std::map<uint64_t, const v1::RecordedEntry*> answered;
  std::tuple<int64_t, uint64_t> last{INT64_MIN, 0};
  for (const v1::RecordedEntry& entry : *answer.entries) {
    if (!answered.emplace(entry.seq(), &entry).second) {
      return VerificationFailure(absl::StrCat("entry ", entry.seq(), " is in the answer twice"));
    }
    const std::tuple<int64_t, uint64_t> at{entry.hour().seconds(), entry.seq()};
    if (at < last) {
      return VerificationFailure(absl::StrCat("the answer is out of order at entry ", entry.seq()));
    }
    last = at;
  }
  // Nothing in the answer that is not in the history (a substituted or
  // invented entry), before anything the history has and the answer lacks.
  std::map<uint64_t, size_t> in_history;
  for (size_t i = 0; i < history.size(); ++i) in_history.emplace(history[i].seq, i);
  for (const auto& [seq, entry] : answered) {
    if (!in_history.contains(seq)) {
      return VerificationFailure(
          absl::StrCat("entry ", seq, " in the answer is not in the ", whose, "'s signed history"));
    }
  }
  for (size_t i = 0; i < history.size(); ++i) {
    const storage::HistoryLink& link = history[i];
    absl::StatusOr<bool> belongs = Belongs(link, proof.chain(static_cast<int>(i)), answer);
    if (!belongs.ok()) return belongs.status();
    auto found = answered.find(link.seq);
    if (found == answered.end()) {
      if (*belongs) {
        return VerificationFailure(absl::StrCat("entry ", link.seq, " of the ", whose,
                                                "'s signed history (the hour from ",
                                                LocalMinute(HourStamp(link.header)),
                                                ") is missing from the answer: the answer is "
                                                "incomplete"));
      }
      continue;
    }
    const v1::RecordedEntry& given = *found->second;
    // An answer that carries the entry's bytes (a report's rows do) is bound
    // to the history by them; one without is bound by seq, kind and hour.
    if (!given.entry_bytes().empty()) {
      absl::StatusOr<storage::Hash> header_hash = storage::HeaderHashOf(given.entry_bytes());
      if (!header_hash.ok() || *header_hash != link.header_hash) {
        return VerificationFailure(
            absl::StrCat("entry ", link.seq, " in the answer is not the entry of that seq in the ",
                         whose, "'s signed history"));
      }
    }
    if (given.hour().seconds() != link.header.hour() || given.kind() != link.header.kind()) {
      return VerificationFailure(absl::StrCat(
          "entry ", link.seq, " in the answer gives another hour or kind than its signed header"));
    }
    if (!*belongs) {
      return VerificationFailure(
          absl::StrCat("entry ", link.seq, " in the answer lies outside the period asked for"));
    }
    const v1::LedgerEntry& contents = given.entry();
    if (contents.has_access_event()) {
      const v1::AccessEvent& event = contents.access_event();
      const std::string& named =
          answer.space == storage::MapSpace::kSubject ? event.subject().id() : event.actor().id();
      if (!named.empty() && named != answer.id) {
        return VerificationFailure(
            absl::StrCat("entry ", link.seq, " in the answer is about another ", whose));
      }
      const absl::Time hour = absl::FromUnixSeconds(link.header.hour());
      const absl::Time when = FromProto(event.occurred_at());
      if (event.has_occurred_at() && (when < hour || when >= hour + absl::Hours(1))) {
        return VerificationFailure(
            absl::StrCat("entry ", link.seq,
                         " in the answer has a time outside the hour its signed header "
                         "records"));
      }
    }
  }
  CompleteAnswer complete;
  complete.entries = answered.size();
  complete.history = history.size();
  complete.checkpoint = std::move(proven->checkpoint);
  complete.note = proof.checkpoint().note();
  return complete;
}

absl::Status CheckExtends(Client& client, const storage::CheckpointBody& seen,
                          const storage::CheckpointBody& now) {
  if (seen.origin != now.origin) {
    return VerificationFailure(absl::StrCat("the saved checkpoint is of another log (", seen.origin,
                                            "), not of ", now.origin));
  }
  if (now.tree_size < seen.tree_size) {
    return VerificationFailure(absl::StrCat("the answer's checkpoint (size ", now.tree_size,
                                            ") is older than one seen before (size ",
                                            seen.tree_size, "): an old checkpoint was replayed"));
  }
  if (now.tree_size == seen.tree_size) {
    if (now.root_hash == seen.root_hash) return absl::OkStatus();
    return VerificationFailure(absl::StrCat("the answer's checkpoint and the one seen before are ",
                                            "two different trees of the same size ", now.tree_size,
                                            ": the log was forked"));
  }
  if (seen.tree_size == 0) return absl::OkStatus();
  v1::GetConsistencyProofRequest request;
  request.set_first_size(seen.tree_size);
  request.set_second_size(now.tree_size);
  absl::StatusOr<v1::ConsistencyProof> proof = client.GetConsistencyProof(request);
  if (!proof.ok()) return proof.status();
  std::vector<storage::Hash> path;
  for (const std::string& hash : proof->hashes()) {
    std::optional<storage::Hash> parsed = storage::HashFromBytes(hash);
    if (!parsed) return VerificationFailure("a consistency proof hash is not 32 bytes");
    path.push_back(*parsed);
  }
  if (absl::Status s = storage::VerifyConsistency(seen.tree_size, now.tree_size, seen.root_hash,
                                                  now.root_hash, path);
      !s.ok()) {
    return VerificationFailure(absl::StrCat(
        "the tree seen before (size ", seen.tree_size, ") is not a prefix of the answer's (size ",
        now.tree_size, "): the log was forked (", s.message(), ")"));
  }
  return absl::OkStatus();
}

}  // namespace innsyn::ctl
