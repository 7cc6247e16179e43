#include "daemon/console/console.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/clock.h"
#include "base/proto_time.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "daemon/console/accounts.h"
#include "daemon/console/internal/pages.h"
#include "daemon/console/internal/sessions.h"
#include "daemon/http/server_tls_context.h"
#include "daemon/ops/log.h"
#include "report/labels.h"

namespace innsyn::daemon::console {
namespace {

constexpr char kSessionCookie[] = "innsyn_session";
constexpr char kLanguageCookie[] = "innsyn_lang";
// The sign-in form's CSRF token, before there is a session: the form
// carries it and this cookie must match it (a double-submit token).
constexpr char kSignInCookie[] = "innsyn_signin";
constexpr char kHtml[] = "text/html; charset=utf-8";
constexpr uint32_t kPageSize = 1000;  // the most a page shows; narrow the period beyond
constexpr size_t kMaxReasonBytes = 500;
constexpr size_t kMaxNoteBytes = 2000;
// Only these roles may sign in; admin sees the health page only.
constexpr std::string_view kSignInRoles[] = {kControllerRole, kAdminRole};

// The response headers of every page: nothing from outside innsynd, no
// framing, no caching of personal data, no referrer.
void SecurityHeaders(httplib::Response& response, bool tls) {
  response.set_header("Content-Security-Policy",
                      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                      "frame-ancestors 'none'; base-uri 'none'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("X-Frame-Options", "DENY");
  response.set_header("Referrer-Policy", "no-referrer");
  response.set_header("Cache-Control", "no-store");
  response.set_header("Cross-Origin-Opener-Policy", "same-origin");
  if (tls) response.set_header("Strict-Transport-Security", "max-age=31536000");
}

std::string Cookie(const httplib::Request& request, std::string_view name) {
  const std::string header = request.get_header_value("Cookie");
  for (absl::string_view split : absl::StrSplit(header, ';')) {
    const absl::string_view stripped = absl::StripAsciiWhitespace(split);
    const std::string_view part(stripped.data(), stripped.size());
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return "";
}

Data Opt(std::string_view text) { return text.empty() ? Data(false) : Data(std::string(text)); }

report::Language ReportLanguage(std::string_view lang) {
  return lang == "en" ? report::Language::kEnglish : report::Language::kBokmal;
}

// A date field (YYYY-MM-DD, a local day in `zone`) as the start of that
// day, or of the day after for an inclusive end. Empty: unset.
absl::StatusOr<std::optional<absl::Time>> ParseDay(std::string_view field, const std::string& value,
                                                   absl::TimeZone zone, bool end) {
  if (value.empty()) return std::nullopt;
  absl::CivilDay day;
  if (!absl::ParseCivilTime(value, &day)) {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", value, "\" is not a date (YYYY-MM-DD)"));
  }
  return absl::FromCivil(end ? day + 1 : day, zone);
}

std::string SeverityKey(v1::AlertSeverity severity) {
  std::string name = v1::AlertSeverity_Name(severity);
  return name.substr(name.rfind('_') + 1);
}

std::string StateKey(v1::AlertState state) {
  std::string name = v1::AlertState_Name(state);
  return name.substr(std::string_view("ALERT_STATE_").size());
}

// The page a path belongs to, which answers GET: where the language link
// returns to, also from a form's answer (/console/alerts/decide).
std::string PageOf(std::string_view path) {
  std::string_view page = path.substr(std::min(path.size(), std::string_view("/console/").size()));
  page = page.substr(0, page.find('/'));
  if (page == "report") return "/console/person";
  if (page == "person" || page == "alerts" || page == "staff" || page == "health") {
    return StrCat("/console/", page);
  }
  return "/console/signin";
}

std::string FormatLeft(absl::Duration left) {
  const int64_t minutes = absl::ToInt64Minutes(left);
  return StrCat(minutes / 60, " h ", minutes % 60, " min");
}

}  // namespace

struct Console::State {
  ConsoleOptions options;
  Services services;
  absl::TimeZone zone;
  absl::Mutex accounts_mu;
  std::map<std::string, Account> accounts ABSL_GUARDED_BY(accounts_mu);
  SessionStore sessions;
  std::unique_ptr<httplib::Server> server;
  std::thread accepting;
  int port = 0;

  State(ConsoleOptions o, Services s, absl::TimeZone z)
      : options(std::move(o)),
        services(std::move(s)),
        zone(z),
        sessions(options.idle_timeout, options.session_lifetime) {}

  bool tls() const { return !options.tls.cert_file.empty(); }

  // What every page handler is given.
  struct Visit {
    const httplib::Request& request;
    httplib::Response& response;
    std::string lang;
    std::optional<Session> session;
  };

  std::string LocalTime(std::string_view lang, absl::Time time) const {
    return report::LocalTime(ReportLanguage(lang), time, zone);
  }

  void Show(Visit& visit, Page page, std::string_view title_key, Data data, int code = 200) {
    data.set("title", Word(visit.lang, title_key));
    data.set("path", PageOf(visit.request.path));
    if (visit.session) {
      data.set("signed_in", true);
      data.set("controller", visit.session->role == kControllerRole);
      data.set("user", visit.session->display_name);
      data.set("csrf", visit.session->csrf);
      if (!data.get("reason")) data.set("reason", visit.session->reason);
    } else {
      data.set("signed_in", false);
    }
    if (!data.get("error")) data.set("error", false);
    if (!data.get("notice")) data.set("notice", false);
    visit.response.status = code;
    visit.response.set_content(Render(page, visit.lang, std::move(data)), kHtml);
  }

  void ShowError(Visit& visit, Page page, std::string_view title_key, const absl::Status& status,
                 Data data = Data()) {
    data.set("error", std::string(status.message()));
    int code = 400;
    switch (status.code()) {
      case absl::StatusCode::kPermissionDenied: code = 403; break;
      case absl::StatusCode::kUnauthenticated: code = 401; break;
      case absl::StatusCode::kNotFound: code = 404; break;
      case absl::StatusCode::kResourceExhausted: code = 429; break;
      case absl::StatusCode::kUnavailable: code = 503; break;
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kOutOfRange: code = 400; break;
      default: code = 500;
    }
    Show(visit, page, title_key, std::move(data), code);
  }

  // The signed-in caller, as the CallGate admits them.
  Admission AdmitAs(const Session& session) {
    Caller caller{StrCat("console:", session.user), session.role};
    return [this, caller](Method method, const v1::QueryRecord& asked) {
      return services.gate.Admit(caller, method, asked);
    };
  }

  // A state-changing form must carry the session's CSRF token.
  bool CsrfOk(const Visit& visit) const {
    const std::string token = visit.request.get_param_value("csrf");
    const std::string& expected = visit.session->csrf;
    return token.size() == expected.size() &&
           CRYPTO_memcmp(token.data(), expected.data(), token.size()) == 0;
  }

  // Registers a page. `signed_in`: refused without a session (GET goes to
  // the sign-in page); a POST must also carry the CSRF token.
  template <typename Handler>
  void Route(const char* method, const char* path, bool signed_in, Handler handler) {
    auto wrapped = [this, method, signed_in, handler](const httplib::Request& request,
                                                      httplib::Response& response) {
      SecurityHeaders(response, tls());
      Visit visit{request, response, std::string(Language(Cookie(request, kLanguageCookie))),
                  sessions.Find(Cookie(request, kSessionCookie), Now())};
      const bool post = std::string_view(method) == "POST";
      if (signed_in && !visit.session) {
        if (!post) {
          response.set_redirect("/console/signin", 303);
          return;
        }
        ShowError(visit, Page::kMessage, "sign_in",
                  absl::UnauthenticatedError(Word(visit.lang, "sign_in_intro")),
                  Data("back", "/console/signin"));
        return;
      }
      if (signed_in && post && !CsrfOk(visit)) {
        ShowError(visit, Page::kMessage, "sign_in",
                  absl::PermissionDeniedError(
                      "The form is out of date or did not come from this console (its CSRF token "
                      "is missing or wrong); nothing was changed. Open the page again."),
                  Data("back", "/console/"));
        return;
      }
      handler(visit);
    };
    if (std::string_view(method) == "GET") {
      server->Get(path, wrapped);
    } else {
      server->Post(path, wrapped);
    }
  }

  // --- Signing in and out -------------------------------------------------

  // The sign-in form's data, with a fresh CSRF token in it and its cookie.
  Data SignInData(Visit& visit, const std::string& user) {
    const std::string token = RandomToken();
    visit.response.set_header("Set-Cookie",
                              StrCat(kSignInCookie, "=", token,
                                     "; Path=/console/signin; Secure; HttpOnly; SameSite=Strict"));
    Data data("user_typed", user);
    data.set("signin_token", token);
    return data;
  }

  void SignInForm(Visit& visit) {
    if (visit.session) {
      visit.response.set_redirect("/console/", 303);
      return;
    }
    Show(visit, Page::kSignIn, "sign_in", SignInData(visit, ""));
  }

  void SignIn(Visit& visit) {
    const std::string user = visit.request.get_param_value("user");
    const std::string password = visit.request.get_param_value("password");
    const std::string code = visit.request.get_param_value("code");
    const absl::Time now = Now();
    std::optional<Account> account;
    {
      absl::MutexLock lock(&accounts_mu);
      if (auto it = accounts.find(user); it != accounts.end()) account = it->second;
    }
    const auto refuse = [&](std::string message) {
      LogWarning("console: sign-in as \"", user, "\" from ", visit.request.remote_addr,
                 " refused: ", message);
      ShowError(visit, Page::kSignIn, "sign_in", absl::UnauthenticatedError(message),
                SignInData(visit, user));
    };
    // A form from elsewhere (login CSRF: signing someone in to another
    // account) carries no token that matches this browser's cookie.
    const std::string token = visit.request.get_param_value("csrf");
    const std::string cookie = Cookie(visit.request, kSignInCookie);
    if (token.empty() || token.size() != cookie.size() ||
        CRYPTO_memcmp(token.data(), cookie.data(), token.size()) != 0) {
      ShowError(visit, Page::kSignIn, "sign_in",
                absl::PermissionDeniedError(
                    visit.lang == "en"
                        ? "The sign-in form is out of date or did not come from this console; "
                          "try again."
                        : "Innloggingsskjemaet er utdatert eller kom ikke fra dette konsollet; "
                          "prøv igjen."),
                SignInData(visit, user));
      return;
    }
    const std::string wrong = visit.lang == "en" ? "Wrong user name, password or one-time code."
                                                 : "Feil brukernavn, passord eller engangskode.";
    if (!account) {
      // The same work as for a real account, so that timing does not tell
      // which names exist.
      PasswordMatches(
          "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          password);
      refuse(wrong);
      return;
    }
    if (sessions.Locked(user, now)) {
      refuse(visit.lang == "en"
                 ? "Too many failed attempts: this account is locked for a few minutes."
                 : "For mange mislykkede forsøk: kontoen er sperret i noen minutter.");
      return;
    }
    const bool password_ok = PasswordMatches(account->password_hash, password);
    const std::optional<int64_t> step = MatchTotp(account->totp_secret, code, now);
    if (!password_ok || !step) {
      sessions.Failed(user, now);
      refuse(wrong);
      return;
    }
    if (std::find(std::begin(kSignInRoles), std::end(kSignInRoles), account->role) ==
        std::end(kSignInRoles)) {
      refuse(StrCat(visit.lang == "en" ? "The role " : "Rollen ", account->role,
                    visit.lang == "en"
                        ? " may not sign in to the console (controller and admin may)."
                        : " kan ikke logge inn i konsollet (controller og admin kan)."));
      return;
    }
    if (!sessions.TakeStep(user, *step)) {
      refuse(visit.lang == "en" ? "This one-time code was used already: wait for the next one."
                                : "Denne engangskoden er brukt: vent på den neste.");
      return;
    }
    const Session session = sessions.Create(*account, now);
    LogInfo("console: ", user, " (", account->role, ") signed in from ", visit.request.remote_addr);
    visit.response.set_header("Set-Cookie",
                              StrCat(kSessionCookie, "=", session.id,
                                     "; Path=/console; Secure; HttpOnly; SameSite=Strict; Max-Age=",
                                     absl::ToInt64Seconds(options.session_lifetime)));
    visit.response.set_redirect(
        account->role == kControllerRole ? "/console/person" : "/console/health", 303);
  }

  void SignOut(Visit& visit) {
    sessions.Remove(visit.session->id);
    visit.response.set_header(
        "Set-Cookie",
        StrCat(kSessionCookie, "=; Path=/console; Secure; HttpOnly; SameSite=Strict; Max-Age=0"));
    visit.response.set_redirect("/console/signin", 303);
  }

  void SetLanguage(Visit& visit) {
    const std::string to(Language(visit.request.get_param_value("to")));
    std::string back = visit.request.get_param_value("back");
    // Only back into the console: never an open redirect.
    if (!back.starts_with("/console/") || back.find("//") != std::string::npos ||
        back.find('\\') != std::string::npos) {
      back = "/console/";
    }
    visit.response.set_header("Set-Cookie", StrCat(kLanguageCookie, "=", to,
                                                   "; Path=/console; Secure; SameSite=Strict; "
                                                   "Max-Age=31536000"));
    visit.response.set_redirect(back, 303);
  }

  // --- Pages ----------------------------------------------------------------

  // The form's reason: required, remembered in the session.
  absl::StatusOr<std::string> Reason(Visit& visit) {
    std::string reason(absl::StripAsciiWhitespace(visit.request.get_param_value("reason")));
    if (reason.empty()) {
      return absl::InvalidArgumentError(visit.lang == "en"
                                            ? "reason: say why you look (it is recorded)."
                                            : "Grunn: skriv hvorfor du slår opp (det logges).");
    }
    if (reason.size() > kMaxReasonBytes) {
      return absl::InvalidArgumentError(StrCat("reason: longer than ", kMaxReasonBytes, " bytes"));
    }
    sessions.SetReason(visit.session->id, reason);
    visit.session->reason = reason;
    return reason;
  }

  // The lookup form's values, echoed back.
  Data LookupData(const Visit& visit, const char* action) {
    Data data;
    data.set("action", action);
    data.set("id", visit.request.get_param_value("id"));
    data.set("from", visit.request.get_param_value("from"));
    data.set("to", visit.request.get_param_value("to"));
    data.set("searched", false);
    return data;
  }

  // The period of the lookup form into `from` and `to` (unset if empty).
  absl::Status SetPeriod(const Visit& visit, google::protobuf::Timestamp& from,
                         google::protobuf::Timestamp& to) {
    ASSIGN_OR_RETURN(std::optional<absl::Time> start,
                     ParseDay("from", visit.request.get_param_value("from"), zone, false));
    ASSIGN_OR_RETURN(std::optional<absl::Time> end,
                     ParseDay("to", visit.request.get_param_value("to"), zone, true));
    if (start) from = ToProto(*start);
    if (end) to = ToProto(*end);
    return absl::OkStatus();
  }
  template <typename Request>
  absl::Status SetPeriod(const Visit& visit, Request& request) {
    google::protobuf::Timestamp from, to;
    RETURN_IF_ERROR(SetPeriod(visit, from, to));
    if (from.seconds() != 0 || from.nanos() != 0) *request.mutable_from() = from;
    if (to.seconds() != 0 || to.nanos() != 0) *request.mutable_to() = to;
    return absl::OkStatus();
  }

  Data AccessRow(std::string_view lang, const v1::RecordedEntry& recorded, bool staff_view) {
    Data row;
    row.set("erased", recorded.erased());
    const report::Language language = ReportLanguage(lang);
    if (recorded.erased() || !recorded.entry().has_access_event()) {
      row.set("time", recorded.has_hour() ? LocalTime(lang, FromProto(recorded.hour())) : "");
      if (!recorded.erased()) {
        // A query, alert or erasure about the person: shown by kind.
        row.set("erased", false);
        row.set("who",
                Opt(recorded.entry().has_query_record() ? recorded.entry().query_record().caller()
                                                        : ""));
        row.set("who_detail", "");
        row.set("subject", "");
        row.set("what", v1::EntryKind_Name(recorded.kind()));
        row.set("event_reason",
                Opt(recorded.entry().has_query_record() ? recorded.entry().query_record().reason()
                                                        : ""));
        row.set("purpose", "");
        row.set("row_explanation", false);
      }
      return row;
    }
    const v1::AccessEvent& event = recorded.entry().access_event();
    row.set("time", LocalTime(lang, FromProto(event.occurred_at())));
    const v1::Actor& actor = event.actor();
    row.set("who", actor.display_name().empty() ? actor.id() : actor.display_name());
    std::vector<std::string> detail;
    if (!actor.role().empty()) detail.push_back(report::RoleLabel(language, actor.role()));
    if (!actor.hpr_number().empty()) detail.push_back(StrCat("HPR ", actor.hpr_number()));
    if (!actor.organisation().empty()) detail.push_back(actor.organisation());
    row.set("who_detail", absl::StrJoin(detail, ", "));
    const v1::Subject& subject = event.subject();
    row.set("subject", subject.display_name().empty()
                           ? subject.id()
                           : StrCat(subject.display_name(), " (", subject.id(), ")"));
    row.set("what", StrCat(report::ActionLabel(language, event), ": ",
                           report::DataLabel(language, event.data_object().type())));
    row.set("event_reason", Opt(event.reason()));
    row.set("purpose", report::PurposeLabel(language, event.purpose_of_use()));
    row.set(
        "row_explanation",
        staff_view ? Data(false) : Opt(report::ExplanationLabel(language, recorded.explanation())));
    return row;
  }

  // A history's rows, count and query record into `data`, for the person
  // and staff pages; returns the first name `name_of` finds in its access
  // events (the person's own), or "".
  template <typename Response, typename NameOf>
  std::string SetHistory(std::string_view lang, const Response& response, bool staff_view,
                         NameOf name_of, Data& data) {
    Data rows{Data::type::list};
    std::string name;
    for (const v1::RecordedEntry& recorded : response.entries()) {
      rows.push_back(AccessRow(lang, recorded, staff_view));
      if (name.empty() && recorded.entry().has_access_event()) {
        name = name_of(recorded.entry().access_event());
      }
    }
    data.set("searched", true);
    data.set("count", std::to_string(response.entries_size()));
    data.set("has_rows", response.entries_size() > 0);
    data.set("rows", rows);
    data.set("query_seq", std::to_string(response.query_seq()));
    return name;
  }

  void PersonForm(Visit& visit) {
    Show(visit, Page::kPerson, "find_person", LookupData(visit, "/console/person"));
  }

  void Person(Visit& visit) {
    Data data = LookupData(visit, "/console/person");
    absl::StatusOr<std::string> reason = Reason(visit);
    if (!reason.ok()) return ShowError(visit, Page::kPerson, "find_person", reason.status(), data);
    v1::ListSubjectAccessRequest request;
    request.set_subject_id(visit.request.get_param_value("id"));
    request.set_reason(*reason);
    request.set_page_size(kPageSize);
    request.set_prove(true);
    if (absl::Status s = SetPeriod(visit, request); !s.ok()) {
      return ShowError(visit, Page::kPerson, "find_person", s, data);
    }
    v1::ListSubjectAccessResponse response;
    absl::Status status =
        services.access_log.ListSubjectAccessFor(AdmitAs(*visit.session), request, response);
    if (status.code() == absl::StatusCode::kFailedPrecondition) {
      // An empty ledger has no signed tree to prove against yet.
      request.set_prove(false);
      response.Clear();
      status = services.access_log.ListSubjectAccessFor(AdmitAs(*visit.session), request, response);
    }
    if (!status.ok()) return ShowError(visit, Page::kPerson, "find_person", status, data);
    data.set(
        "subject_name",
        SetHistory(
            visit.lang, response, false,
            [](const v1::AccessEvent& event) { return event.subject().display_name(); }, data));
    if (response.has_proof()) {
      Data complete;
      complete.set("history", std::to_string(response.proof().chain_size()));
      complete.set("tree_size", std::to_string(response.proof().checkpoint().tree_size()));
      data.set("complete", complete);
    } else {
      data.set("complete", false);
    }
    if (!response.next_page_token().empty()) {
      data.set("notice", visit.lang == "en"
                             ? StrCat("Showing the first ", kPageSize, "; choose a shorter period.")
                             : StrCat("Viser de første ", kPageSize, "; velg en kortere periode."));
    }
    Show(visit, Page::kPerson, "find_person", std::move(data));
  }

  void Report(Visit& visit) {
    Data data = LookupData(visit, "/console/person");
    absl::StatusOr<std::string> reason = Reason(visit);
    if (!reason.ok()) return ShowError(visit, Page::kPerson, "find_person", reason.status(), data);
    v1::CreateReportRequest request;
    request.set_subject_id(visit.request.get_param_value("id"));
    request.set_reason(*reason);
    request.set_language(std::string(Language(visit.request.get_param_value("lang"))));
    request.set_format(v1::REPORT_FORMAT_PDF);
    if (absl::Status s = SetPeriod(visit, request); !s.ok()) {
      return ShowError(visit, Page::kPerson, "find_person", s, data);
    }
    v1::CreateReportResponse response;
    if (absl::Status s =
            services.reports.CreateReportFor(AdmitAs(*visit.session), request, response);
        !s.ok()) {
      return ShowError(visit, Page::kPerson, "find_person", s, data);
    }
    // The file name names no one: it travels in mail clients' lists.
    const std::string day = absl::FormatTime("%Y-%m-%d", Now(), zone);
    visit.response.set_header(
        "Content-Disposition",
        StrCat("attachment; filename=\"innsyn-report-", day, "-", response.query_seq(), ".pdf\""));
    visit.response.set_content(response.document(), response.media_type());
  }

  void Alerts(Visit& visit, std::string notice = "") {
    Data data;
    data.set("listed", false);
    std::string reason = visit.session->reason;
    if (visit.request.method == "POST" && visit.request.path == "/console/alerts") {
      absl::StatusOr<std::string> given = Reason(visit);
      if (!given.ok()) return ShowError(visit, Page::kAlerts, "alerts", given.status(), data);
      reason = *given;
    }
    if (reason.empty()) return Show(visit, Page::kAlerts, "alerts", std::move(data));
    v1::ListAlertsRequest request;
    request.set_reason(reason);
    request.set_page_size(kPageSize);
    for (v1::AlertState state :
         {v1::ALERT_STATE_OPEN, v1::ALERT_STATE_ACKNOWLEDGED, v1::ALERT_STATE_RESOLVED_VIOLATION}) {
      request.add_states(state);
    }
    v1::ListAlertsResponse response;
    if (absl::Status s = services.alerts.ListAlertsFor(AdmitAs(*visit.session), request, response);
        !s.ok()) {
      return ShowError(visit, Page::kAlerts, "alerts", s, data);
    }
    std::vector<const v1::AlertView*> views;
    for (const v1::AlertView& view : response.alerts()) views.push_back(&view);
    // The most severe first, then by rule, then as raised.
    std::stable_sort(views.begin(), views.end(),
                     [](const v1::AlertView* a, const v1::AlertView* b) {
                       if (a->alert().severity() != b->alert().severity()) {
                         return a->alert().severity() > b->alert().severity();
                       }
                       return a->alert().rule() < b->alert().rule();
                     });
    const absl::Time now = Now();
    Data alerts{Data::type::list};
    for (const v1::AlertView* view : views) {
      const v1::Alert& alert = view->alert();
      Data item;
      item.set("seq", std::to_string(view->seq()));
      item.set("alert_id", alert.alert_id());
      item.set("severity", Word(visit.lang, SeverityKey(alert.severity())));
      std::string severity_class = SeverityKey(alert.severity());
      absl::AsciiStrToLower(&severity_class);
      item.set("severity_class", severity_class);
      item.set("rule", alert.rule());
      item.set("state", Word(visit.lang, StateKey(view->state())));
      item.set("summary", alert.summary());
      item.set("actor", alert.actor_id().empty() ? "–" : alert.actor_id());
      item.set("subject", alert.subject_id().empty() ? "–" : alert.subject_id());
      item.set("occurred", alert.has_occurred_at()
                               ? LocalTime(visit.lang, FromProto(alert.occurred_at()))
                               : "–");
      std::vector<std::string> seqs;
      for (uint64_t seq : alert.evidence_seqs()) seqs.push_back(std::to_string(seq));
      item.set("evidence", seqs.empty() ? "–" : absl::StrJoin(seqs, ", "));
      if (view->has_notify_authority_by()) {
        const absl::Time by = FromProto(view->notify_authority_by());
        Data deadline_time(LocalTime(visit.lang, by));
        item.set("deadline", deadline_time);
        item.set("overdue", now >= by);
        item.set("left", FormatLeft(by - now));
      } else {
        item.set("deadline", false);
      }
      Data decisions{Data::type::list};
      for (const v1::AlertDecisionRecord& record : view->decisions()) {
        Data decision;
        decision.set("when", LocalTime(visit.lang, FromProto(record.committed_at())));
        decision.set("state", Word(visit.lang, StateKey(record.decision().state())));
        decision.set("by", record.decision().decided_by());
        decision.set("note", Opt(record.decision().note()));
        decisions.push_back(decision);
      }
      item.set("has_decisions", view->decisions_size() > 0);
      item.set("decisions", decisions);
      alerts.push_back(item);
    }
    data.set("listed", true);
    data.set("count", std::to_string(views.size()));
    data.set("has_alerts", !views.empty());
    data.set("alerts", alerts);
    data.set("query_seq", std::to_string(response.query_seq()));
    data.set("reason", reason);
    if (!notice.empty()) data.set("notice", notice);
    Show(visit, Page::kAlerts, "alerts", std::move(data));
  }

  void Decide(Visit& visit) {
    v1::UpdateAlertRequest request;
    request.set_alert_id(visit.request.get_param_value("alert_id"));
    v1::AlertState state = v1::ALERT_STATE_UNSPECIFIED;
    if (!v1::AlertState_Parse(StrCat("ALERT_STATE_", visit.request.get_param_value("state")),
                              &state) ||
        state == v1::ALERT_STATE_OPEN || state == v1::ALERT_STATE_UNSPECIFIED) {
      return ShowError(visit, Page::kAlerts, "alerts",
                       absl::InvalidArgumentError("state: choose one of the decisions offered"),
                       Data("listed", false));
    }
    request.set_state(state);
    const std::string note(absl::StripAsciiWhitespace(visit.request.get_param_value("note")));
    if (note.size() > kMaxNoteBytes) {
      return ShowError(
          visit, Page::kAlerts, "alerts",
          absl::InvalidArgumentError(StrCat("note: longer than ", kMaxNoteBytes, " bytes")),
          Data("listed", false));
    }
    request.set_note(note);
    v1::UpdateAlertResponse response;
    if (absl::Status s = services.alerts.UpdateAlertFor(AdmitAs(*visit.session), request, response);
        !s.ok()) {
      return ShowError(visit, Page::kAlerts, "alerts", s, Data("listed", false));
    }
    Alerts(visit, StrCat(request.alert_id(), ": ", Word(visit.lang, StateKey(state)), ". ",
                         Word(visit.lang, "decision_logged"), " ", response.receipt().seq(), "."));
  }

  void StaffForm(Visit& visit) {
    Show(visit, Page::kStaff, "staff", LookupData(visit, "/console/staff"));
  }

  void Staff(Visit& visit, std::string notice = "") {
    Data data = LookupData(visit, "/console/staff");
    std::string reason = visit.session->reason;
    if (visit.request.path == "/console/staff") {
      absl::StatusOr<std::string> given = Reason(visit);
      if (!given.ok()) return ShowError(visit, Page::kStaff, "staff", given.status(), data);
      reason = *given;
    }
    v1::ListActorActivityRequest request;
    request.set_actor_id(visit.request.get_param_value("id"));
    request.set_reason(reason);
    request.set_page_size(kPageSize);
    if (absl::Status s = SetPeriod(visit, request); !s.ok()) {
      return ShowError(visit, Page::kStaff, "staff", s, data);
    }
    v1::ListActorActivityResponse response;
    if (absl::Status s =
            services.access_log.ListActorActivityFor(AdmitAs(*visit.session), request, response);
        !s.ok()) {
      return ShowError(visit, Page::kStaff, "staff", s, data);
    }
    data.set("actor_name",
             SetHistory(
                 visit.lang, response, true,
                 [](const v1::AccessEvent& event) { return event.actor().display_name(); }, data));
    if (!notice.empty()) data.set("notice", notice);
    Show(visit, Page::kStaff, "staff", std::move(data));
  }

  // The monthly review's mark: a query record of its own, naming who
  // reviewed whose activity for which period, with the note as its reason.
  void Reviewed(Visit& visit) {
    const std::string note(absl::StripAsciiWhitespace(visit.request.get_param_value("note")));
    Data data = LookupData(visit, "/console/staff");
    if (note.empty() || note.size() > kMaxNoteBytes) {
      return ShowError(
          visit, Page::kStaff, "staff",
          absl::InvalidArgumentError(StrCat("note: required, at most ", kMaxNoteBytes, " bytes")),
          data);
    }
    v1::QueryRecord record;
    record.set_actor_id(visit.request.get_param_value("id"));
    record.set_reason(StrCat("reviewed: ", note));
    google::protobuf::Timestamp from, to;
    if (absl::Status s = SetPeriod(visit, from, to); !s.ok()) {
      return ShowError(visit, Page::kStaff, "staff", s, data);
    }
    if (from.seconds() != 0) *record.mutable_range_from() = from;
    if (to.seconds() != 0) *record.mutable_range_to() = to;
    absl::StatusOr<CallGate::Pass> pass =
        AdmitAs(*visit.session)(Method::kListActorActivity, record);
    if (!pass.ok()) return ShowError(visit, Page::kStaff, "staff", pass.status(), data);
    record.set_method("ReviewActorActivity");
    record.set_caller(pass->caller().identity);
    record.set_caller_role(pass->caller().role);
    absl::StatusOr<v1::AppendReceipt> receipt = services.ledger.AppendQuery(record);
    if (!receipt.ok()) return ShowError(visit, Page::kStaff, "staff", receipt.status(), data);
    Staff(visit, StrCat(Word(visit.lang, "reviewed"), " ", receipt->seq(), "."));
  }

  void Health(Visit& visit) {
    v1::GetStatusResponse status;
    if (absl::Status s = services.admin.GetStatusFor(AdmitAs(*visit.session), status); !s.ok()) {
      return ShowError(visit, Page::kHealth, "health", s);
    }
    const exporters::Metrics::Recent recent = services.metrics.recent();
    const std::string& lang = visit.lang;
    const auto when = [&](absl::Time t, const std::string& what) {
      return t == absl::InfinitePast() ? Word(lang, "none")
                                       : StrCat(LocalTime(lang, t), what.empty() ? "" : ": ", what);
    };
    Data data;
    data.set("ledger_size", std::to_string(status.ledger_size()));
    if (status.has_latest_checkpoint()) {
      Data checkpoint;
      checkpoint.set("tree_size", std::to_string(status.latest_checkpoint().tree_size()));
      checkpoint.set("root", absl::BytesToHexString(status.latest_checkpoint().root_hash()));
      data.set("checkpoint", checkpoint);
    } else {
      data.set("checkpoint", false);
    }
    data.set("verified", status.verified_at_start());
    data.set("read_only", status.read_only());
    data.set("problem", status.problem());
    data.set("last_verification", when(recent.verification, recent.verification_result));
    Data sources{Data::type::list};
    for (const exporters::Metrics::Recent::Source& source : recent.sources) {
      Data row;
      row.set("name", source.name);
      row.set("last", LocalTime(lang, source.last_event));
      row.set("events", std::to_string(source.events));
      sources.push_back(row);
    }
    data.set("has_sources", !recent.sources.empty());
    data.set("sources", sources);
    data.set("latest_backup", when(recent.backup, recent.backup_result));
    data.set("retention", when(recent.retention, recent.retention_result));
    data.set("checkpoint_time", when(recent.checkpoint, ""));
    data.set("lag_entries", std::to_string(status.detection_lag_entries()));
    data.set("lag_seconds", absl::StrFormat("%.0f", status.detection_lag_seconds()));
    Show(visit, Page::kHealth, "health", std::move(data));
  }

  void AddRoutes() {
    server->Get("/console/static/console.css",
                [](const httplib::Request&, httplib::Response& response) {
                  response.set_header("X-Content-Type-Options", "nosniff");
                  response.set_header("Cache-Control", "max-age=3600");
                  response.set_content(std::string(Stylesheet()), "text/css; charset=utf-8");
                });
    const auto home = [this](Visit& v) {
      v.response.set_redirect(
          v.session->role == kControllerRole ? "/console/person" : "/console/health", 303);
    };
    Route("GET", "/", true, home);
    Route("GET", "/console", true, home);
    Route("GET", "/console/", true, home);
    Route("GET", "/console/signin", false, [this](Visit& v) { SignInForm(v); });
    Route("POST", "/console/signin", false, [this](Visit& v) { SignIn(v); });
    Route("POST", "/console/signout", true, [this](Visit& v) { SignOut(v); });
    Route("GET", "/console/lang", false, [this](Visit& v) { SetLanguage(v); });
    Route("GET", "/console/person", true, [this](Visit& v) { PersonForm(v); });
    Route("POST", "/console/person", true, [this](Visit& v) { Person(v); });
    Route("POST", "/console/report", true, [this](Visit& v) { Report(v); });
    Route("GET", "/console/alerts", true, [this](Visit& v) { Alerts(v); });
    Route("POST", "/console/alerts", true, [this](Visit& v) { Alerts(v); });
    Route("POST", "/console/alerts/decide", true, [this](Visit& v) { Decide(v); });
    Route("GET", "/console/staff", true, [this](Visit& v) { StaffForm(v); });
    Route("POST", "/console/staff", true, [this](Visit& v) { Staff(v); });
    Route("POST", "/console/staff/reviewed", true, [this](Visit& v) { Reviewed(v); });
    Route("GET", "/console/health", true, [this](Visit& v) { Health(v); });
    server->set_error_handler([this](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty()) return;
      SecurityHeaders(response, tls());
      response.set_content(StrCat("innsyn console: ", response.status, " for ", request.method, " ",
                                  request.path, "\n"),
                           "text/plain; charset=utf-8");
    });
  }
};

Console::Console(std::unique_ptr<State> state) : state_(std::move(state)) {}

Console::~Console() { Stop(); }

absl::StatusOr<std::unique_ptr<Console>> Console::Start(const ConsoleOptions& options,
                                                        Services services) {
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(options.time_zone, &zone)) {
    return absl::InvalidArgumentError(StrCat("console: unknown time zone ", options.time_zone));
  }
  const size_t colon = options.listen.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(StrCat("console_listen ", options.listen,
                                             " is not host:port (for example 127.0.0.1:8444)"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto state = std::make_unique<State>(options, std::move(services), zone);
  {
    absl::StatusOr<std::map<std::string, Account>> accounts = LoadAccounts(options.users_file);
    if (!accounts.ok()) return accounts.status();
    if (accounts->empty()) {
      LogWarning("console: no accounts in ", options.users_file,
                 " yet; add one with innsynctl console-user add");
    }
    absl::MutexLock lock(&state->accounts_mu);
    state->accounts = *std::move(accounts);
  }
  if (options.tls.cert_file.empty()) {
    state->server = std::make_unique<httplib::Server>();
  } else {
    absl::Status tls_status;
    state->server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& context) {
      tls_status = http::ConfigureServerTls(context, options.tls, /*client_certificates=*/false);
      return tls_status.ok();
    });
    if (!tls_status.ok()) return tls_status;
  }
  if (!state->server->is_valid()) return absl::InternalError("cannot start the console");
  httplib::Server& server = *state->server;
  const size_t threads = static_cast<size_t>(std::max(1, options.threads));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(64 << 10);  // forms only
  // A page's headers and body leave at once: with Nagle's algorithm the body
  // waits for the browser's delayed ACK of the headers (40 ms on Linux).
  server.set_tcp_nodelay(true);
  server.set_read_timeout(std::chrono::seconds(10));
  server.set_write_timeout(std::chrono::seconds(30));
  state->AddRoutes();
  state->port = port == 0 ? server.bind_to_any_port(host) : port;
  if (state->port <= 0 || (port != 0 && !server.bind_to_port(host, port))) {
    return absl::UnavailableError(StrCat("cannot listen on console_listen ", options.listen));
  }
  state->accepting = std::thread([s = state.get()] { s->server->listen_after_bind(); });
  return std::unique_ptr<Console>(new Console(std::move(state)));
}

int Console::port() const { return state_->port; }

absl::Status Console::ReloadAccounts() {
  absl::StatusOr<std::map<std::string, Account>> accounts =
      LoadAccounts(state_->options.users_file);
  if (!accounts.ok()) return accounts.status();
  state_->sessions.Retain(*accounts);
  absl::MutexLock lock(&state_->accounts_mu);
  state_->accounts = *std::move(accounts);
  return absl::OkStatus();
}

void Console::Stop() {
  if (!state_->accepting.joinable()) return;
  state_->server->stop();
  state_->accepting.join();
}

}  // namespace innsyn::daemon::console
