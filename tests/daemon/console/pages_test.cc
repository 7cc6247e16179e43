#include "daemon/console/internal/pages.h"

#include <gtest/gtest.h>

namespace innsyn::daemon::console {
namespace {

TEST(Pages, EveryTemplateRendersInTheLayout) {
  for (Page page :
       {Page::kSignIn, Page::kPerson, Page::kAlerts, Page::kStaff, Page::kHealth, Page::kMessage}) {
    Data data;
    data.set("title", "T");
    const std::string html = Render(page, "nb", data);
    EXPECT_EQ(html.find("template error"), std::string::npos) << html;
    EXPECT_NE(html.find("<main id=\"main\">"), std::string::npos) << html;
    EXPECT_NE(html.find("<html lang=\"nb\">"), std::string::npos);
    EXPECT_EQ(html.find("<script"), std::string::npos);
  }
}

TEST(Pages, ShowTextFromEventsAsText) {
  Data row;
  row.set("erased", false);
  row.set("time", "t");
  row.set("who", "<b>Kari</b>");
  row.set("who_detail", "");
  row.set("what", "read");
  row.set("event_reason", "<script>alert(1)</script>\" onmouseover=\"x");
  row.set("purpose", "");
  row.set("row_explanation", false);
  Data rows{Data::type::list};
  rows.push_back(row);
  Data data;
  data.set("searched", true);
  data.set("complete", false);
  data.set("has_rows", true);
  data.set("rows", rows);
  data.set("id", "\"><script>x</script>");
  const std::string html = Render(Page::kPerson, "en", data);
  EXPECT_EQ(html.find("<script"), std::string::npos) << html;
  EXPECT_EQ(html.find("<b>Kari"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("value=\"&quot;&gt;&lt;script&gt;"), std::string::npos) << html;
}

TEST(Pages, SpeakBokmalUnlessAskedForEnglish) {
  EXPECT_EQ(Word("nb", "alerts"), "Varsler");
  EXPECT_EQ(Word("en", "alerts"), "Alerts");
  EXPECT_EQ(Word("de", "alerts"), "Varsler");
  EXPECT_NE(Render(Page::kSignIn, "en", Data()).find("Sign in with your own account"),
            std::string::npos);
}

}  // namespace
}  // namespace innsyn::daemon::console
