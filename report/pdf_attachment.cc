#include "report/pdf_attachment.h"

#include <cstdlib>
#include <memory>

#include "base/status_macros.h"
#include "base/strings.h"
#include "report/internal/qpdf.h"

namespace innsyn::report {
namespace {

using internal::Qpdf;

constexpr std::string_view kAnswerDescription =
    "innsyn: the signed machine-readable answer with its proofs (innsynctl verify-report)";
// A name tree deeper than this is refused rather than followed: the
// trees innsyn writes have one level, and a loop must not hang the check.
constexpr int kMaxNameTreeDepth = 16;

struct FreeDeleter {
  void operator()(unsigned char* p) const { std::free(p); }
};

// The file specification named `name` in the name tree `node`, or an
// uninitialised handle.
qpdf_oh FindInNameTree(qpdf_data q, qpdf_oh node, std::string_view name, int depth) {
  if (depth > kMaxNameTreeDepth || qpdf_oh_is_dictionary(q, node) == QPDF_FALSE) {
    return qpdf_oh_new_uninitialized(q);
  }
  qpdf_oh names = qpdf_oh_get_key(q, node, "/Names");
  const int name_items = qpdf_oh_is_array(q, names) ? qpdf_oh_get_array_n_items(q, names) : 0;
  for (int i = 0; i + 1 < name_items; i += 2) {
    qpdf_oh key = qpdf_oh_get_array_item(q, names, i);
    if (qpdf_oh_is_string(q, key) && qpdf_oh_get_utf8_value(q, key) == name) {
      return qpdf_oh_get_array_item(q, names, i + 1);
    }
  }
  qpdf_oh kids = qpdf_oh_get_key(q, node, "/Kids");
  const int kid_items = qpdf_oh_is_array(q, kids) ? qpdf_oh_get_array_n_items(q, kids) : 0;
  for (int i = 0; i < kid_items; ++i) {
    qpdf_oh found = FindInNameTree(q, qpdf_oh_get_array_item(q, kids, i), name, depth + 1);
    if (qpdf_oh_is_initialized(q, found)) return found;
  }
  return qpdf_oh_new_uninitialized(q);
}

// The decoded contents of the embedded file of `spec`.
absl::StatusOr<std::string> EmbeddedFileData(Qpdf& qpdf, qpdf_oh spec) {
  qpdf_data q = qpdf.get();
  qpdf_oh files = qpdf_oh_get_key_if_dict(q, spec, "/EF");
  qpdf_oh stream = qpdf_oh_get_key_if_dict(q, files, "/F");
  if (!qpdf_oh_is_stream(q, stream)) stream = qpdf_oh_get_key_if_dict(q, files, "/UF");
  if (!qpdf_oh_is_stream(q, stream)) {
    return absl::InvalidArgumentError(
        StrCat("the PDF's attachment ", kAnswerAttachmentName, " holds no embedded file"));
  }
  unsigned char* buffer = nullptr;
  size_t length = 0;
  QPDF_BOOL filtered = QPDF_FALSE;
  const QPDF_ERROR_CODE code =
      qpdf_oh_get_stream_data(q, stream, qpdf_dl_generalized, &filtered, &buffer, &length);
  std::unique_ptr<unsigned char, FreeDeleter> owned(buffer);
  const std::string what = StrCat("cannot decode the PDF's attachment ", kAnswerAttachmentName);
  RETURN_IF_ERROR(qpdf.Check(absl::StatusCode::kInvalidArgument, what));
  if ((code & QPDF_ERRORS) != 0 || filtered == QPDF_FALSE) {
    return absl::InvalidArgumentError(what);
  }
  return std::string(reinterpret_cast<const char*>(buffer), length);
}

}  // namespace

absl::StatusOr<std::string> AttachAnswer(std::string_view pdf, std::string_view answer_json,
                                         absl::Time modified) {
  Qpdf qpdf;
  RETURN_IF_ERROR(qpdf.Open(pdf, ""));
  qpdf_data q = qpdf.get();
  const std::string name(kAnswerAttachmentName);

  qpdf_oh stream = qpdf_oh_new_stream(q);
  qpdf_oh_replace_stream_data(q, stream, reinterpret_cast<const unsigned char*>(answer_json.data()),
                              answer_json.size(), qpdf_oh_new_null(q), qpdf_oh_new_null(q));
  qpdf_oh stream_dict = qpdf_oh_get_dict(q, stream);
  qpdf_oh_replace_key(q, stream_dict, "/Type", qpdf_oh_new_name(q, "/EmbeddedFile"));
  qpdf_oh_replace_key(q, stream_dict, "/Subtype", qpdf_oh_new_name(q, "/application/json"));
  qpdf_oh params = qpdf_oh_new_dictionary(q);
  qpdf_oh_replace_key(q, params, "/Size",
                      qpdf_oh_new_integer(q, static_cast<long long>(answer_json.size())));
  const std::string date = absl::FormatTime("D:%Y%m%d%H%M%SZ", modified, absl::UTCTimeZone());
  qpdf_oh_replace_key(q, params, "/ModDate", qpdf_oh_new_string(q, date.c_str()));
  qpdf_oh_replace_key(q, stream_dict, "/Params", params);

  qpdf_oh embedded = qpdf_oh_new_dictionary(q);
  qpdf_oh_replace_key(q, embedded, "/F", stream);
  qpdf_oh_replace_key(q, embedded, "/UF", stream);
  qpdf_oh spec = qpdf_oh_new_dictionary(q);
  qpdf_oh_replace_key(q, spec, "/Type", qpdf_oh_new_name(q, "/Filespec"));
  qpdf_oh_replace_key(q, spec, "/F", qpdf_oh_new_string(q, name.c_str()));
  qpdf_oh_replace_key(q, spec, "/UF", qpdf_oh_new_unicode_string(q, name.c_str()));
  qpdf_oh_replace_key(q, spec, "/Desc",
                      qpdf_oh_new_unicode_string(q, std::string(kAnswerDescription).c_str()));
  qpdf_oh_replace_key(q, spec, "/AFRelationship", qpdf_oh_new_name(q, "/Data"));
  qpdf_oh_replace_key(q, spec, "/EF", embedded);
  spec = qpdf_make_indirect_object(q, spec);

  qpdf_oh tree_names = qpdf_oh_new_array(q);
  qpdf_oh_append_item(q, tree_names, qpdf_oh_new_unicode_string(q, name.c_str()));
  qpdf_oh_append_item(q, tree_names, spec);
  qpdf_oh tree = qpdf_oh_new_dictionary(q);
  qpdf_oh_replace_key(q, tree, "/Names", tree_names);
  qpdf_oh root = qpdf_get_root(q);
  qpdf_oh names = qpdf_oh_get_key(q, root, "/Names");
  if (!qpdf_oh_is_dictionary(q, names)) {
    names = qpdf_oh_new_dictionary(q);
    qpdf_oh_replace_key(q, root, "/Names", names);
  }
  qpdf_oh_replace_key(q, names, "/EmbeddedFiles", tree);
  qpdf_oh associated = qpdf_oh_new_array(q);
  qpdf_oh_append_item(q, associated, spec);
  qpdf_oh_replace_key(q, root, "/AF", associated);
  constexpr std::string_view kWhat = "cannot attach the answer to the PDF";
  RETURN_IF_ERROR(qpdf.Check(absl::StatusCode::kInternal, kWhat));

  RETURN_IF_ERROR(qpdf.StartWrite(kWhat));
  qpdf_set_deterministic_ID(q, QPDF_TRUE);
  // The attachment is compressed; cairo's streams are left as they are.
  qpdf_set_compress_streams(q, QPDF_TRUE);
  qpdf_set_decode_level(q, qpdf_dl_none);
  return qpdf.FinishWrite(kWhat);
}

absl::StatusOr<PdfContents> ReadPdfContents(std::string_view pdf, const std::string& password) {
  Qpdf qpdf;
  RETURN_IF_ERROR(qpdf.Open(pdf, password));
  qpdf_data q = qpdf.get();
  PdfContents contents;
  const char* keywords = qpdf_get_info_key(q, "/Keywords");
  if (keywords != nullptr) contents.keywords = keywords;
  qpdf_oh names = qpdf_oh_get_key_if_dict(q, qpdf_get_root(q), "/Names");
  qpdf_oh tree = qpdf_oh_get_key_if_dict(q, names, "/EmbeddedFiles");
  qpdf_oh spec = FindInNameTree(q, tree, kAnswerAttachmentName, 0);
  RETURN_IF_ERROR(qpdf.Check(absl::StatusCode::kInvalidArgument, "cannot read the PDF"));
  if (qpdf_oh_is_initialized(q, spec) && qpdf_oh_is_dictionary(q, spec)) {
    ASSIGN_OR_RETURN(contents.answer_json, EmbeddedFileData(qpdf, spec));
  }
  return contents;
}

}  // namespace innsyn::report
