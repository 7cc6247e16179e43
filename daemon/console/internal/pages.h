// The console's pages: mustache templates (kainjow-mustache, which escapes
// every {{value}} for HTML, so that text from events, however written,
// shows as text), the words in bokmål and English, and the stylesheet.
// Private to daemon/console. Pure; thread-safe.
#ifndef INNSYN_DAEMON_CONSOLE_INTERNAL_PAGES_H_
#define INNSYN_DAEMON_CONSOLE_INTERNAL_PAGES_H_

#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

namespace innsyn::daemon::console {

using Data = kainjow::mustache::data;

enum class Page { kSignIn, kPerson, kAlerts, kStaff, kHealth, kMessage };

// "nb" unless `lang` is "en".
std::string_view Language(std::string_view lang);
// One word or phrase of the pages, in `lang`.
std::string Word(std::string_view lang, std::string_view key);
// The page in the layout: `data` holds the page's values and `title`,
// `signed_in`, `user`, `csrf`, `error`, `notice` for the layout; the words
// are added as `t`.
std::string Render(Page page, std::string_view lang, Data data);
std::string_view Stylesheet();

}  // namespace innsyn::daemon::console

#endif  // INNSYN_DAEMON_CONSOLE_INTERNAL_PAGES_H_
