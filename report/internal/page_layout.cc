#include "report/internal/page_layout.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>

#include "base/strings.h"

namespace innsyn::report::internal {
namespace {

// A4 in points (1/72 inch), and the margins.
constexpr double kPageWidth = 595.276;
constexpr double kPageHeight = 841.890;
constexpr double kMarginSide = 56.0;
constexpr double kMarginTop = 56.0;
constexpr double kMarginBottom = 64.0;  // room for the footer
constexpr double kTextWidth = kPageWidth - 2 * kMarginSide;
constexpr double kCellPadding = 3.0;
constexpr double kFontResolution = 72.0;  // so that a font's size is in points

constexpr char kTitleFont[] = "DejaVu Sans Bold 15";
constexpr char kHeadingFont[] = "DejaVu Sans Bold 11";
constexpr char kBodyFont[] = "DejaVu Sans 9";
constexpr char kSmallFont[] = "DejaVu Sans 7.5";
constexpr char kMonoFont[] = "DejaVu Sans Mono 6.5";
constexpr char kTableFont[] = "DejaVu Sans 7";

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct LayoutFree {
  void operator()(PangoLayout* layout) const { g_object_unref(layout); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, LayoutFree>;

double HeightOf(PangoLayout* layout) {
  int width = 0;
  int height = 0;
  pango_layout_get_size(layout, &width, &height);
  return static_cast<double>(height) / PANGO_SCALE;
}

}  // namespace

struct PageLayout::Surface {
  std::string pdf;
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;
  PangoContext* context = nullptr;

  ~Surface() {
    if (context != nullptr) g_object_unref(context);
    if (cr != nullptr) cairo_destroy(cr);
    if (surface != nullptr) cairo_surface_destroy(surface);
  }

  LayoutPtr Layout(std::string_view markup, const char* font, double width) const {
    LayoutPtr layout(pango_layout_new(context));
    PangoFontDescription* description = pango_font_description_from_string(font);
    pango_layout_set_font_description(layout.get(), description);
    pango_font_description_free(description);
    pango_layout_set_width(layout.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_markup(layout.get(), markup.data(), static_cast<int>(markup.size()));
    return layout;
  }
};

// One block of a page: a text, or a table row (its cells side by side).
struct PageLayout::Item {
  std::vector<LayoutPtr> cells;  // one for a text
  std::vector<double> cell_x;
  double height = 0;
  double space_after = 0;
  bool keep_with_next = false;
  bool table_row = false;
  bool header_row = false;
  const Item* header = nullptr;  // a table row's header, repeated on each page

  double Extent() const { return height + space_after; }

  void Draw(cairo_t* cr, PangoContext* context, double y) const {
    if (header_row) {
      cairo_set_source_rgb(cr, 0.90, 0.92, 0.95);
      cairo_rectangle(cr, kMarginSide, y, kTextWidth, height);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    const double pad = table_row ? kCellPadding : 0;
    for (size_t i = 0; i < cells.size(); ++i) {
      cairo_move_to(cr, cell_x[i] + pad, y + pad);
      pango_cairo_update_context(cr, context);
      pango_cairo_show_layout(cr, cells[i].get());
    }
    if (table_row) {
      cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
      cairo_set_line_width(cr, 0.5);
      cairo_move_to(cr, kMarginSide, y + height);
      cairo_line_to(cr, kMarginSide + kTextWidth, y + height);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
    }
  }
};

absl::StatusOr<std::unique_ptr<PageLayout>> PageLayout::Create(const PdfMetadata& metadata) {
  std::unique_ptr<PageLayout> layout(new PageLayout());
  layout->surface_ = std::make_unique<Surface>();
  Surface& s = *layout->surface_;
  s.surface = cairo_pdf_surface_create_for_stream(AppendToString, &s.pdf, kPageWidth, kPageHeight);
  if (cairo_surface_status(s.surface) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError("cairo cannot make a PDF surface");
  }
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_TITLE, metadata.title.c_str());
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_AUTHOR, metadata.author.c_str());
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_SUBJECT, metadata.subject.c_str());
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_KEYWORDS, metadata.keywords.c_str());
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_CREATOR, "innsyn");
  cairo_pdf_surface_set_metadata(s.surface, CAIRO_PDF_METADATA_CREATE_DATE,
                                 metadata.create_date.c_str());
  s.cr = cairo_create(s.surface);
  s.context = pango_cairo_create_context(s.cr);
  pango_cairo_context_set_resolution(s.context, kFontResolution);
  return layout;
}

PageLayout::~PageLayout() = default;

std::string PageLayout::Escape(std::string_view text) {
  gchar* escaped = g_markup_escape_text(text.data(), static_cast<gssize>(text.size()));
  std::string out(escaped);
  g_free(escaped);
  return out;
}

void PageLayout::AddText(std::string_view markup, const char* font, double space_after,
                         bool keep_with_next) {
  auto item = std::make_unique<Item>();
  item->cells.push_back(surface_->Layout(markup, font, kTextWidth));
  item->cell_x.push_back(kMarginSide);
  item->height = HeightOf(item->cells.front().get());
  item->space_after = space_after;
  item->keep_with_next = keep_with_next;
  items_.push_back(std::move(item));
}

void PageLayout::Title(std::string_view text) {
  AddText(StrCat("<span foreground=\"#1f3a5f\">", Escape(text), "</span>"), kTitleFont, 10, true);
}
void PageLayout::Heading(std::string_view text) {
  Space(6);
  AddText(StrCat("<span foreground=\"#1f3a5f\">", Escape(text), "</span>"), kHeadingFont, 4, true);
}
void PageLayout::Paragraph(std::string_view markup) { AddText(markup, kBodyFont, 5, false); }
void PageLayout::Small(std::string_view markup) { AddText(markup, kSmallFont, 4, false); }
void PageLayout::Monospace(std::string_view text) { AddText(Escape(text), kMonoFont, 5, false); }
void PageLayout::Space(double points) {
  auto item = std::make_unique<Item>();
  item->height = points;
  items_.push_back(std::move(item));
}

void PageLayout::Table(const std::vector<Column>& columns,
                       const std::vector<std::vector<std::string>>& rows) {
  auto make_row = [&](const std::vector<std::string>& cells, bool header) {
    auto item = std::make_unique<Item>();
    item->table_row = true;
    item->header_row = header;
    double x = kMarginSide;
    for (size_t i = 0; i < columns.size(); ++i) {
      const double width = columns[i].width_fraction * kTextWidth;
      const std::string markup = header ? StrCat("<b>", Escape(columns[i].heading), "</b>")
                                        : (i < cells.size() ? cells[i] : std::string());
      item->cells.push_back(surface_->Layout(markup, kTableFont, width - 2 * kCellPadding));
      item->cell_x.push_back(x);
      item->height = std::max(item->height, HeightOf(item->cells.back().get()));
      x += width;
    }
    item->height += 2 * kCellPadding;
    return item;
  };
  auto header = make_row({}, true);
  header->keep_with_next = true;
  const Item* header_ptr = header.get();
  items_.push_back(std::move(header));
  for (const std::vector<std::string>& cells : rows) {
    auto row = make_row(cells, false);
    row->header = header_ptr;
    items_.push_back(std::move(row));
  }
  Space(6);
}

absl::StatusOr<std::string> PageLayout::Finish(const std::function<std::string(int, int)>& footer) {
  // Pagination first, so that every footer knows how many pages there are.
  struct Placed {
    const Item* item;
    double y;
  };
  std::vector<std::vector<Placed>> pages(1);
  const double bottom = kPageHeight - kMarginBottom;
  double y = kMarginTop;
  for (size_t i = 0; i < items_.size(); ++i) {
    const Item& item = *items_[i];
    double needed = item.Extent();
    if (item.keep_with_next && i + 1 < items_.size()) needed += items_[i + 1]->height;
    if (y + needed > bottom && !pages.back().empty()) {
      pages.emplace_back();
      y = kMarginTop;
      if (item.table_row && !item.header_row && item.header != nullptr) {
        pages.back().push_back({item.header, y});
        y += item.header->Extent();
      }
    }
    if (pages.back().empty() && !item.table_row && item.cells.empty()) continue;  // no space at top
    pages.back().push_back({&item, y});
    y += item.Extent();
  }
  Surface& s = *surface_;
  const int count = static_cast<int>(pages.size());
  for (int page = 0; page < count; ++page) {
    for (const Placed& placed : pages[page]) placed.item->Draw(s.cr, s.context, placed.y);
    LayoutPtr foot = s.Layout(footer(page + 1, count), kSmallFont, kTextWidth);
    pango_layout_set_alignment(foot.get(), PANGO_ALIGN_CENTER);
    cairo_set_source_rgb(s.cr, 0.3, 0.3, 0.3);
    cairo_move_to(s.cr, kMarginSide, kPageHeight - kMarginBottom + 24);
    pango_cairo_show_layout(s.cr, foot.get());
    cairo_set_source_rgb(s.cr, 0, 0, 0);
    cairo_show_page(s.cr);
  }
  cairo_surface_finish(s.surface);
  if (cairo_surface_status(s.surface) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(StrCat("cairo could not write the PDF: ",
                                      cairo_status_to_string(cairo_surface_status(s.surface))));
  }
  return std::move(s.pdf);
}

}  // namespace innsyn::report::internal
