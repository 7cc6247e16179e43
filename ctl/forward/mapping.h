// The mapping file of `innsynctl forward`: how the columns of a CSV export
// (or the keys of a JSON-lines log) become the fields of an AccessEvent.
// Its field names are those of `innsynctl append`'s flags without the
// dashes (actor-id, subject-kind, ...), so that an event reads the same
// whichever way it was sent, and BuildEvent checks both alike.
//
// A Mapping is read once and then only read: thread-safe. Mapping a record
// is pure; its errors name the column (or key) and the field.
#ifndef INNSYN_CTL_FORWARD_MAPPING_H_
#define INNSYN_CTL_FORWARD_MAPPING_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/event_flags.h"
#include "innsyn/v1/event.pb.h"

namespace innsyn::ctl::forward {

enum class FileFormat { kCsv, kJsonLines };

inline constexpr char kDefaultTimeZone[] = "Europe/Oslo";

// One event field read from a column, with the file's own words for its
// values translated ([values.FIELD]); words not in the table pass as they are.
struct ColumnField {
  std::string field;   // "actor-id"
  std::string column;  // a CSV header name, a column number from 1 without a header, or a
                       // JSON key ("user.id" for a nested one)
  std::map<std::string, std::string> values;
  bool attribute = false;  // from [attributes]: `field` is the attribute's key
};

struct Mapping {
  std::string path;  // the mapping file, for messages
  std::string file;  // the file to follow, if the mapping names it
  FileFormat format = FileFormat::kCsv;
  char delimiter = ',';
  bool header = true;   // the CSV's first row names its columns
  absl::TimeZone zone;  // for times without an offset; kDefaultTimeZone by default
  std::string zone_name = kDefaultTimeZone;
  // absl::ParseTime formats tried, in `zone`, after RFC 3339.
  std::vector<std::string> time_formats = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                                           "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%dT%H:%M:%E*S"};
  EventFlags constants;  // [constants], with every column field empty
  std::vector<ColumnField> columns;
  bool has_event_id = false;  // event-id is a column: ids come from the file
};

// Reads and checks a mapping: unknown keys, a field both constant and
// column, a required field neither, a bad constant or time zone are errors
// naming the file and key.
absl::StatusOr<Mapping> LoadMapping(const std::string& path);

// Reads a record's values by the index of the Mapping's column fields;
// nullopt when the record has no such column or key.
class RecordValues {
 public:
  virtual ~RecordValues() = default;
  virtual std::optional<std::string> Value(size_t column_index) const = 0;
};

// The event for one record. `derived_id` is used when the mapping has no
// event-id column. InvalidArgument names the column and field:
//   column "tidspunkt" (occurred-at): "31.02.2026" is not a time ...
absl::StatusOr<v1::AccessEvent> MapRecord(const Mapping& mapping, const RecordValues& values,
                                          const std::string& derived_id);

// A time as the file gives it: RFC 3339 with an offset, else one of the
// mapping's formats in its time zone.
absl::StatusOr<absl::Time> ParseFileTime(const Mapping& mapping, std::string_view text);

}  // namespace innsyn::ctl::forward

#endif  // INNSYN_CTL_FORWARD_MAPPING_H_
