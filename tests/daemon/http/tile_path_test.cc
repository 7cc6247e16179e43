// Tile paths as C2SP tlog-tiles writes them, and every way one can be
// malformed, each refused with a message that names what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "daemon/http/internal/tile_routes.h"
#include "tests/support/status_matchers.h"

namespace innsyn::daemon::http {
namespace {

using ::innsyn::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TilePath, FullAndPartialTilesParseAsTheSpecWritesThem) {
  EXPECT_EQ(*ParseTilePath("/tile/0/000"), (TilePath{0, 0, 256}));
  EXPECT_EQ(*ParseTilePath("/tile/0/x001/x234/067"), (TilePath{0, 1234067, 256}));
  EXPECT_EQ(*ParseTilePath("/tile/1/x001/x234/067.p/8"), (TilePath{1, 1234067, 8}));
  EXPECT_EQ(*ParseTilePath("/tile/2/000.p/1"), (TilePath{2, 0, 1}));
  EXPECT_EQ(*ParseTilePath("/tile/0/999.p/255"), (TilePath{0, 999, 255}));
  EXPECT_EQ(*ParseTilePath("/tile/63/001"), (TilePath{63, 1, 256}));
  EXPECT_EQ(*ParseTilePath("/tile/0/x018/x446/x744/x073/x709/x551/615"),
            (TilePath{0, std::numeric_limits<uint64_t>::max(), 256}));
}

TEST(TilePath, MalformedPathsAreRefusedNamingWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/tile/00/000", "level \"00\""},
      {"/tile/01/000", "level \"01\""},
      {"/tile/64/000", "level \"64\""},
      {"/tile/-1/000", "level \"-1\""},
      {"/tile/a/000", "level \"a\""},
      {"/tile/0", "index N is missing"},
      {"/tile/0/", "index element \"\""},
      {"/tile/0/1", "index element \"1\" is not 3 digits"},
      {"/tile/0/0001", "index element \"0001\""},
      {"/tile/0/001/234", "index element \"001\" must begin with x"},
      {"/tile/0/x001/x23/067", "index element \"x23\" is not x and 3 digits"},
      {"/tile/0/x001/x234/x067", "index element \"x067\" is not 3 digits"},
      {"/tile/0/x000/067", "leading x000"},
      {"/tile/0/x018/x446/x744/x073/x709/x551/616", "beyond 64 bits"},
      {"/tile/0/000.p/256", "partial width \"256\""},
      {"/tile/0/000.p/0", "partial width \"0\""},
      {"/tile/0/000.p/08", "partial width \"08\""},
      {"/tile/0/000.p/", "partial width \"\""},
      {"/tile/0/000.p", "index element \"000.p\""},
      {"/tile/0/000/", "index element \"000\" must begin with x"},
      {"/tile/0/000.p/5/6", "index element \"000.p\""},
  };
  for (const auto& [path, why] : cases) {
    EXPECT_THAT(ParseTilePath(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(why)))
        << path;
  }
}

TEST(TilePath, EntryBundlesAreNotServed) {
  for (const char* path : {"/tile/entries/000", "/tile/entries/x001/067.p/5", "/tile/entries"}) {
    EXPECT_THAT(ParseTilePath(path),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("personal data")))
        << path;
  }
}

}  // namespace
}  // namespace innsyn::daemon::http
