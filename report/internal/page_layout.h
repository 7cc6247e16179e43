// Paginated A4 documents with cairo's PDF surface and pango: headings,
// paragraphs, key-value blocks, monospace blocks and tables whose header
// row repeats on every page, with a footer that knows the page count
// ("Side 2 av 5"). Text is UTF-8; fonts are chosen by fontconfig and
// embedded (subset) by cairo. Private to report/. Not thread-safe: one
// document per object.
#ifndef INNSYN_REPORT_INTERNAL_PAGE_LAYOUT_H_
#define INNSYN_REPORT_INTERNAL_PAGE_LAYOUT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace innsyn::report::internal {

struct PdfMetadata {
  std::string title;
  std::string author;
  std::string subject;
  std::string keywords;
  std::string create_date;  // ISO 8601, so that the same answer gives the same PDF
};

struct Column {
  std::string heading;
  double width_fraction;  // of the text width; the columns' sum to 1
};

class PageLayout {
 public:
  // Starts an A4 PDF written to memory.
  static absl::StatusOr<std::unique_ptr<PageLayout>> Create(const PdfMetadata& metadata);
  ~PageLayout();
  PageLayout(const PageLayout&) = delete;
  PageLayout& operator=(const PageLayout&) = delete;

  // Blocks in reading order. `markup` is pango markup: escape text with
  // Escape(). A heading stays on the page of what follows it.
  void Title(std::string_view text);
  void Heading(std::string_view text);
  void Paragraph(std::string_view markup);
  void Small(std::string_view markup);
  void Monospace(std::string_view text);
  void Space(double points);
  // A table: each row's cells are markup; rows are never split across pages.
  void Table(const std::vector<Column>& columns, const std::vector<std::vector<std::string>>& rows);

  // Lays out the pages and returns the PDF. `footer(page, pages)` is the
  // markup at the foot of each page (pages count from 1).
  absl::StatusOr<std::string> Finish(const std::function<std::string(int, int)>& footer);

  static std::string Escape(std::string_view text);

 private:
  struct Item;
  PageLayout() = default;
  void AddText(std::string_view markup, const char* font, double space_after, bool keep_with_next);

  struct Surface;
  std::unique_ptr<Surface> surface_;
  std::vector<std::unique_ptr<Item>> items_;
};

}  // namespace innsyn::report::internal

#endif  // INNSYN_REPORT_INTERNAL_PAGE_LAYOUT_H_
