// Verification of a ledger from what it stores: recomputes every leaf, chain
// hash and tree node from the stored entry bytes and compares them with the
// stored ones (the hashes that tiles hold) and with the latest signed
// checkpoint. With index checking it
// also derives every index and event-id key from the entries and checks that
// exactly those keys are stored, so that no access can be hidden from a
// subject's history by deleting its index key.
//
// A pass only reads: it runs beside appends and covers the entries committed
// when it starts. It uses two threads of its own besides the caller's (see
// ledger_verifier.cc). Outside storage/, Ledger::Verify and
// Ledger::VerifyIncremental are the way in.
// Thread safety: a LedgerVerifier is immutable; passes may run concurrently.
#ifndef INNSYN_STORAGE_LEDGER_VERIFIER_H_
#define INNSYN_STORAGE_LEDGER_VERIFIER_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "storage/hash.h"
#include "storage/merkle.h"

namespace innsyn::storage {

namespace internal {
struct LedgerImpl;
}  // namespace internal

struct VerifyReport {
  bool ok = true;
  uint64_t entries_checked = 0;
  std::optional<uint64_t> first_bad_seq;
  std::string problem;
  uint64_t checkpoint_size = 0;  // the signed checkpoint checked against, if any
  bool indexes_checked = false;
  double seconds = 0;
  bool cancelled = false;  // stopped on request: neither ok nor a finding
};

// Where incremental verification has got to: the leaves, tree border and
// chain head it has recomputed itself. Starts empty (verify from seq 0);
// owned and passed back by one caller at a time.
struct VerifyProgress {
  CompactRange range;
  Hash chain = kZeroHash;
};

class LedgerVerifier {
 public:
  // `ledger` must outlive the verifier.
  explicit LedgerVerifier(const internal::LedgerImpl& ledger) : ledger_(ledger) {}

  // Verifies every committed entry, and with `check_indexes` the index and
  // event-id keys. If it succeeds and `progress` is given, leaves `progress`
  // at its end. Stops early, `cancelled`, once `*cancel` is true (checked
  // every few thousand entries).
  VerifyReport Verify(bool check_indexes, VerifyProgress* progress = nullptr,
                      const std::atomic<bool>* cancel = nullptr) const;
  // Verifies the entries committed since `progress` (hashes, chain, tree
  // nodes, and any signed checkpoint in that span) and advances it on
  // success. Entries before it are not re-read: a full Verify on a schedule
  // covers those. On failure `progress` is unchanged. Cancelled as Verify.
  VerifyReport VerifyIncremental(VerifyProgress& progress,
                                 const std::atomic<bool>* cancel = nullptr) const;

 private:
  const internal::LedgerImpl& ledger_;
};

}  // namespace innsyn::storage

#endif  // INNSYN_STORAGE_LEDGER_VERIFIER_H_
