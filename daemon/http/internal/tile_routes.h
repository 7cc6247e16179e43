// The tree as C2SP tlog-tiles serves it, read-only on the HTTP listener:
//   GET /checkpoint               the latest signed checkpoint note
//   GET /tile/<L>/<N>[.p/<W>]     width W (256 without .p) hashes of tree
//                                 level 8L from node 256N (storage::Ledger::Tile)
// so that a standard tlog client can check the signed tree without trusting
// the clinic. Entry bundles (/tile/entries/...) are never served: entries
// hold personal data, even sealed. A tile passes the CallGate as GetTile,
// the checkpoint as GetCheckpoint; like the gRPC proofs, an admitted read is
// not recorded in the ledger (hashes carry no personal data, and a log that
// recorded its own audits would grow with every check), a refused one is.
// Thread-safe; borrows the ledger and gate.
#ifndef INNSYN_DAEMON_HTTP_INTERNAL_TILE_ROUTES_H_
#define INNSYN_DAEMON_HTTP_INTERNAL_TILE_ROUTES_H_

#include <httplib.h>

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/call_gate.h"
#include "daemon/http/internal/route.h"
#include "storage/ledger.h"

namespace innsyn::daemon::http {

// A tile's path, parsed; width is 256 for a full tile.
struct TilePath {
  int level = 0;
  uint64_t index = 0;
  int width = 0;
  bool operator==(const TilePath&) const = default;
};

// Parses `path` (from "/tile/") exactly as tlog-tiles writes it: L in
// decimal without leading zeros, up to 63; N in 3-digit elements, all but
// the last prefixed with x, without a leading x000; W from 1 to 255
// without leading zeros. InvalidArgument naming what is wrong otherwise,
// and NotFound for an entry bundle (/tile/entries/...), which is not served.
absl::StatusOr<TilePath> ParseTilePath(std::string_view path);

class TileRoutes {
 public:
  TileRoutes(storage::Ledger& ledger, CallGate& gate) : ledger_(&ledger), gate_(&gate) {}

  Reply Checkpoint(const httplib::Request& request) const;
  Reply Tile(const httplib::Request& request) const;

 private:
  storage::Ledger* ledger_;
  CallGate* gate_;
};

}  // namespace innsyn::daemon::http

#endif  // INNSYN_DAEMON_HTTP_INTERNAL_TILE_ROUTES_H_
