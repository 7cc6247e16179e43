#include "daemon/http/internal/tile_routes.h"

#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/strings.h"

namespace innsyn::daemon::http {
namespace {

constexpr std::string_view kTilePrefix = "/tile/";
constexpr std::string_view kPartialSuffix = ".p";
// tlog-tiles allows levels 0 to 63; the ledger's tree never reaches above
// Ledger::kMaxTileLevel, so higher levels are well-formed but not found.
constexpr int kMaxSpecLevel = 63;
constexpr int kIndexElementDigits = 3;

// A tile is the same bytes for as long as the log is append-only, whether
// full or partial (its width is in its path), so a client may keep it; but
// only a client admitted by its certificate may fetch it, so no shared
// cache may keep it for others.
constexpr char kTileCacheControl[] = "private, max-age=31536000, immutable";
// The checkpoint changes as the ledger grows.
constexpr char kCheckpointCacheControl[] = "no-store";
constexpr char kNoteType[] = "text/plain; charset=utf-8";
constexpr char kTileType[] = "application/octet-stream";

absl::Status Malformed(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(
      StrCat("tile path ", path, ": ", why, " (tlog-tiles paths are /tile/L/N or /tile/L/N.p/W)"));
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A decimal without leading zeros ("0" itself allowed), at most `max`.
bool ParseSmallDecimal(std::string_view text, int max, int& value) {
  if (!AllDigits(text) || (text.size() > 1 && text[0] == '0') || text.size() > 3) return false;
  value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value <= max;
}

// N from its elements ("x001", "x234", "067"): all but the last with x.
absl::StatusOr<uint64_t> ParseIndex(std::string_view path,
                                    const std::vector<std::string_view>& elements) {
  if (elements.empty()) return Malformed(path, "the tile index N is missing");
  uint64_t index = 0;
  for (size_t i = 0; i < elements.size(); ++i) {
    std::string_view element = elements[i];
    const bool last = i + 1 == elements.size();
    if (!last) {
      if (!element.starts_with('x')) {
        return Malformed(path, StrCat("index element \"", element,
                                      "\" must begin with x (all but the last do)"));
      }
      element.remove_prefix(1);
    }
    if (element.size() != kIndexElementDigits || !AllDigits(element)) {
      return Malformed(path, StrCat("index element \"", elements[i], "\" is not ",
                                    last ? "" : "x and ", "3 digits"));
    }
    const uint64_t digits = static_cast<uint64_t>((element[0] - '0') * 100 +
                                                  (element[1] - '0') * 10 + (element[2] - '0'));
    if (i == 0 && !last && digits == 0) {
      return Malformed(path, "the index has a leading x000 element");
    }
    if (index > (std::numeric_limits<uint64_t>::max() - digits) / 1000) {
      return Malformed(path, "the tile index is beyond 64 bits");
    }
    index = index * 1000 + digits;
  }
  return index;
}

}  // namespace

absl::StatusOr<TilePath> ParseTilePath(std::string_view path) {
  if (!path.starts_with(kTilePrefix)) return Malformed(path, "it does not begin with /tile/");
  std::vector<std::string_view> elements = Split(path.substr(kTilePrefix.size()), '/');
  if (elements.front() == "entries") {
    return absl::NotFoundError(
        "entry bundles (/tile/entries/...) are not served: the entries hold personal data, even "
        "sealed; the level 0 tiles hold their leaf hashes");
  }
  TilePath tile;
  if (!ParseSmallDecimal(elements.front(), kMaxSpecLevel, tile.level)) {
    return Malformed(path, StrCat("level \"", elements.front(),
                                  "\" is not a number from 0 to 63 without leading zeros"));
  }
  elements.erase(elements.begin());
  tile.width = storage::Ledger::kTileWidth;
  // A partial tile: ".../067.p/<W>".
  if (elements.size() >= 2 && elements[elements.size() - 2].ends_with(kPartialSuffix)) {
    const std::string_view width = elements.back();
    if (!ParseSmallDecimal(width, storage::Ledger::kTileWidth - 1, tile.width) || tile.width == 0) {
      return Malformed(path, StrCat("partial width \"", width,
                                    "\" is not a number from 1 to 255 without leading zeros (a "
                                    "full tile has no .p/ suffix)"));
    }
    elements.pop_back();
    elements.back().remove_suffix(kPartialSuffix.size());
  }
  absl::StatusOr<uint64_t> index = ParseIndex(path, elements);
  if (!index.ok()) return index.status();
  tile.index = *index;
  return tile;
}

Reply TileRoutes::Checkpoint(const httplib::Request& request) const {
  absl::StatusOr<CallGate::Pass> pass =
      gate_->Admit(CallerOf(request, gate_->mtls()), Method::kGetCheckpoint);
  if (!pass.ok()) return JsonError(pass.status());
  absl::StatusOr<v1::Checkpoint> checkpoint = ledger_->Checkpoint();
  if (!checkpoint.ok()) return JsonError(checkpoint.status());
  return Reply{200, kNoteType, checkpoint->note(), {{"Cache-Control", kCheckpointCacheControl}}};
}

Reply TileRoutes::Tile(const httplib::Request& request) const {
  // Checked before the gate, so that a malformed path records nothing.
  absl::StatusOr<TilePath> tile = ParseTilePath(request.path);
  if (!tile.ok()) return JsonError(tile.status());
  absl::StatusOr<CallGate::Pass> pass =
      gate_->Admit(CallerOf(request, gate_->mtls()), Method::kGetTile);
  if (!pass.ok()) return JsonError(pass.status());
  if (tile->level > storage::Ledger::kMaxTileLevel) {
    return JsonError(absl::NotFoundError(StrCat("tile level ", tile->level,
                                                " is above the highest this ledger has, ",
                                                storage::Ledger::kMaxTileLevel)));
  }
  absl::StatusOr<std::string> bytes = ledger_->Tile(tile->level, tile->index, tile->width);
  if (!bytes.ok()) return JsonError(bytes.status());
  return Reply{200, kTileType, *std::move(bytes), {{"Cache-Control", kTileCacheControl}}};
}

}  // namespace innsyn::daemon::http
