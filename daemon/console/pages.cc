#include "daemon/console/internal/pages.h"

#include <map>
#include <utility>

namespace innsyn::daemon::console {
namespace {

struct Words {
  const char* nb;
  const char* en;
};

// Every word the pages show, by key; {{t.key}} in the templates.
const std::map<std::string_view, Words>& AllWords() {
  static const auto* words = new std::map<std::string_view, Words>{
      {"skip", {"Hopp til innholdet", "Skip to the content"}},
      {"menu", {"Meny", "Menu"}},
      {"other_lang_name", {"English", "Norsk (bokmål)"}},
      {"find_person", {"Finn en person", "Find a person"}},
      {"alerts", {"Varsler", "Alerts"}},
      {"staff", {"Ansattes aktivitet", "Staff activity"}},
      {"health", {"Loggens helse", "Health of the log"}},
      {"sign_in", {"Logg inn", "Sign in"}},
      {"sign_out", {"Logg ut", "Sign out"}},
      {"signed_in_as", {"Innlogget som", "Signed in as"}},
      {"user", {"Brukernavn", "User name"}},
      {"password", {"Passord", "Password"}},
      {"code", {"Engangskode fra autentiseringsappen", "One-time code from the authenticator app"}},
      {"sign_in_intro",
       {"Logg inn med din egen konto. Innlogging er personlig: alt du ser her, blir logget "
        "med ditt navn.",
        "Sign in with your own account. Signing in is personal: everything you look at here is "
        "logged under your name."}},
      {"identity_number", {"Fødselsnummer eller D-nummer", "National identity number"}},
      {"from", {"Fra (dato)", "From (date)"}},
      {"to", {"Til og med (dato)", "To (date, inclusive)"}},
      {"reason", {"Grunn til oppslaget", "Reason for looking"}},
      {"reason_hint",
       {"Påkrevd. Lagres i loggen sammen med navnet ditt, og huskes til du logger ut.",
        "Required. Recorded in the log with your name, and remembered until you sign out."}},
      {"search", {"Søk", "Search"}},
      {"show", {"Vis", "Show"}},
      {"history_of", {"Hvem har sett opplysningene om", "Who has accessed the data of"}},
      {"time", {"Tid", "Time"}},
      {"who", {"Hvem", "Who"}},
      {"what", {"Hva", "What"}},
      {"purpose", {"Formål", "Purpose"}},
      {"explanation", {"Forklaring", "Explanation"}},
      {"unexplained", {"Ingen forklaring", "Not explained"}},
      {"erased", {"Slettet (nøkkelen er makulert)", "Erased (its key was shredded)"}},
      {"no_entries", {"Ingen oppføringer i perioden.", "No entries in the period."}},
      {"entries", {"oppføringer", "entries"}},
      {"logged_as_query",
       {"Dette oppslaget er logget som oppføring", "This look-up was logged as entry"}},
      {"completeness", {"Fullstendighet", "Completeness"}},
      {"complete_proof",
       {"innsyn la ved et bevis for at listen er fullstendig: personens historikk har",
        "innsyn gave a proof that the list is complete: the person's history holds"}},
      {"complete_proof_tail",
       {"oppføringer i alt, signert i sjekkpunktet med treets størrelse",
        "entries in all, signed in the checkpoint of tree size"}},
      {"complete_check",
       {"Pasienten kan sjekke beviset selv i rapporten (innsynctl verify-report).",
        "The patient can check the proof in the report (innsynctl verify-report)."}},
      {"make_report", {"Lag innsynsrapport", "Make an innsyn report"}},
      {"report_lang", {"Språk", "Language"}},
      {"report_pdf", {"Last ned PDF", "Download PDF"}},
      {"staff_of_person", {"Se hva denne personen selv har åpnet", "See what this person opened"}},
      {"severity", {"Alvorlighet", "Severity"}},
      {"rule", {"Regel", "Rule"}},
      {"subject", {"Pasient", "Patient"}},
      {"actor", {"Ansatt", "Staff member"}},
      {"occurred", {"Skjedde", "Occurred"}},
      {"evidence", {"Grunnlag (oppføringer i loggen)", "Evidence (entries in the log)"}},
      {"state", {"Status", "State"}},
      {"decisions", {"Vurderinger", "Decisions"}},
      {"decide", {"Vurder", "Decide"}},
      {"note", {"Notat", "Note"}},
      {"note_hint",
       {"Påkrevd for en avgjørelse. Lagres i loggen.",
        "Required to resolve. Recorded in the log."}},
      {"save", {"Lagre", "Save"}},
      {"ACKNOWLEDGED", {"Under behandling", "Acknowledged"}},
      {"RESOLVED_JUSTIFIED", {"Avsluttet: berettiget", "Resolved: justified"}},
      {"RESOLVED_VIOLATION", {"Avsluttet: brudd", "Resolved: violation"}},
      {"RESOLVED_FALSE_POSITIVE", {"Avsluttet: falsk alarm", "Resolved: false positive"}},
      {"OPEN", {"Åpen", "Open"}},
      {"LOW", {"Lav", "Low"}},
      {"MEDIUM", {"Middels", "Medium"}},
      {"HIGH", {"Høy", "High"}},
      {"CRITICAL", {"Kritisk", "Critical"}},
      {"no_alerts", {"Ingen varsler å behandle.", "No alerts to triage."}},
      {"deadline",
       {"Frist for å melde bruddet til Datatilsynet (GDPR art. 33):",
        "Deadline to notify Datatilsynet of the breach (GDPR Art. 33):"}},
      {"left", {"igjen", "left"}},
      {"overdue", {"Fristen er passert", "The deadline has passed"}},
      {"staff_intro",
       {"Månedlig gjennomgang av hva en ansatt har åpnet (Normen).",
        "Monthly review of what a staff member opened (Normen)."}},
      {"opened_by", {"Åpnet av", "Opened by"}},
      {"mark_reviewed", {"Merk som gjennomgått", "Mark as reviewed"}},
      {"decision_logged",
       {"Avgjørelsen er logget som oppføring", "The decision was logged as entry"}},
      {"reviewed", {"Gjennomgangen er logget som oppføring", "The review was logged as entry"}},
      {"ledger", {"Loggen", "The log"}},
      {"ledger_size", {"Oppføringer", "Entries"}},
      {"checkpoint", {"Siste signerte sjekkpunkt", "Latest signed checkpoint"}},
      {"tree_size", {"Treets størrelse", "Tree size"}},
      {"root", {"Rot", "Root"}},
      {"none", {"Ingen ennå", "None yet"}},
      {"verification", {"Verifisering", "Verification"}},
      {"verified_at_start", {"Full verifisering ved oppstart", "Full verification at start"}},
      {"passed", {"bestått", "passed"}},
      {"pending", {"ikke ferdig", "not finished"}},
      {"read_only",
       {"Loggen feilet verifisering og tar ikke imot hendelser",
        "The log failed verification and takes no events"}},
      {"last_verification", {"Siste selvsjekk", "Latest self-check"}},
      {"sources", {"Kilder (siden innsynd startet)", "Sources (since innsynd started)"}},
      {"source", {"Kilde", "Source"}},
      {"last_event", {"Sist sendt", "Last sent"}},
      {"events", {"Hendelser", "Events"}},
      {"no_sources", {"Ingen kilde har sendt siden start.", "No source has sent since start."}},
      {"backups", {"Sikkerhetskopier", "Backups"}},
      {"signed", {"signert", "signed"}},
      {"latest_backup", {"Siste", "Latest"}},
      {"retention", {"Sletting etter lagringstid", "Deletion after the retention period"}},
      {"last_run", {"Siste kjøring", "Latest run"}},
      {"detection", {"Avviksdeteksjon", "Anomaly detection"}},
      {"detection_lag", {"Etterslep", "Lag"}},
      {"seconds", {"sekunder", "seconds"}},
      {"back", {"Tilbake", "Back"}},
  };
  return *words;
}

constexpr char kLayout[] = R"(<!doctype html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} – innsyn</title>
<link rel="stylesheet" href="/console/static/console.css">
</head>
<body>
<a class="skip" href="#main">{{t.skip}}</a>
<header>
<nav aria-label="{{t.menu}}">
<span class="brand">innsyn</span>
{{#signed_in}}
{{#controller}}<a href="/console/person">{{t.find_person}}</a>
<a href="/console/alerts">{{t.alerts}}</a>
<a href="/console/staff">{{t.staff}}</a>{{/controller}}
<a href="/console/health">{{t.health}}</a>
{{/signed_in}}
<a href="/console/lang?to={{other_lang}}&amp;back={{path}}" lang="{{other_lang}}" hreflang="{{other_lang}}">{{t.other_lang_name}}</a>
{{#signed_in}}
<form method="post" action="/console/signout" class="signout">
<input type="hidden" name="csrf" value="{{csrf}}">
<span>{{t.signed_in_as}} {{user}}</span> <button type="submit">{{t.sign_out}}</button>
</form>
{{/signed_in}}
</nav>
</header>
<main id="main">
<h1>{{title}}</h1>
{{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
{{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
{{{body}}}
</main>
</body>
</html>
)";

constexpr char kSignIn[] = R"(<p>{{t.sign_in_intro}}</p>
<form method="post" action="/console/signin" class="stack">
<input type="hidden" name="csrf" value="{{signin_token}}">
<label for="user">{{t.user}}</label>
<input id="user" name="user" autocomplete="username" required value="{{user_typed}}" autofocus>
<label for="password">{{t.password}}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="code">{{t.code}}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<button type="submit">{{t.sign_in}}</button>
</form>
)";

// The search form of the person and staff pages.
constexpr char kLookupForm[] = R"(<form method="post" action="{{action}}" class="stack lookup">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="id">{{t.identity_number}}</label>
<input id="id" name="id" required inputmode="numeric" autocomplete="off" value="{{id}}">
<div class="row">
<div><label for="from">{{t.from}}</label><input id="from" name="from" type="date" value="{{from}}"></div>
<div><label for="to">{{t.to}}</label><input id="to" name="to" type="date" value="{{to}}"></div>
</div>
<label for="reason">{{t.reason}}</label>
<input id="reason" name="reason" required maxlength="500" value="{{reason}}" aria-describedby="reason-hint">
<p id="reason-hint" class="hint">{{t.reason_hint}}</p>
<button type="submit">{{t.search}}</button>
</form>
)";

constexpr char kPerson[] = R"({{> lookup}}
{{#searched}}
<section aria-labelledby="history">
<h2 id="history">{{t.history_of}} {{subject_name}} ({{id}})</h2>
<p>{{count}} {{t.entries}}. {{t.logged_as_query}} {{query_seq}}.</p>
{{#complete}}<p class="proof"><strong>{{t.completeness}}:</strong> {{t.complete_proof}} {{history}} {{t.complete_proof_tail}} {{tree_size}}. {{t.complete_check}}</p>{{/complete}}
{{#has_rows}}
<div class="scroll"><table>
<thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.who}}</th><th scope="col">{{t.what}}</th><th scope="col">{{t.purpose}}</th><th scope="col">{{t.explanation}}</th></tr></thead>
<tbody>
{{#rows}}
{{#erased}}<tr class="erased"><td>{{time}}</td><td colspan="4">{{t.erased}}</td></tr>{{/erased}}
{{^erased}}<tr><td>{{time}}</td><td>{{who}}<br><span class="small">{{who_detail}}</span></td><td>{{what}}{{#event_reason}}<br><span class="small">{{event_reason}}</span>{{/event_reason}}</td><td>{{purpose}}</td><td>{{#row_explanation}}{{row_explanation}}{{/row_explanation}}{{^row_explanation}}<span class="warn">{{t.unexplained}}</span>{{/row_explanation}}</td></tr>{{/erased}}
{{/rows}}
</tbody></table></div>
{{/has_rows}}
{{^has_rows}}<p>{{t.no_entries}}</p>{{/has_rows}}
</section>
<section aria-labelledby="report">
<h2 id="report">{{t.make_report}}</h2>
<form method="post" action="/console/report" class="row">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="id" value="{{id}}">
<input type="hidden" name="from" value="{{from}}">
<input type="hidden" name="to" value="{{to}}">
<input type="hidden" name="reason" value="{{reason}}">
<div><label for="report-lang">{{t.report_lang}}</label>
<select id="report-lang" name="lang"><option value="nb">Norsk (bokmål)</option><option value="en">English</option></select></div>
<button type="submit">{{t.report_pdf}}</button>
</form>
<form method="post" action="/console/staff" class="row">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="id" value="{{id}}">
<input type="hidden" name="from" value="{{from}}">
<input type="hidden" name="to" value="{{to}}">
<input type="hidden" name="reason" value="{{reason}}">
<button type="submit" class="secondary">{{t.staff_of_person}}</button>
</form>
</section>
{{/searched}}
)";

constexpr char kAlerts[] = R"(<form method="post" action="/console/alerts" class="stack lookup">
<input type="hidden" name="csrf" value="{{csrf}}">
<label for="reason">{{t.reason}}</label>
<input id="reason" name="reason" required maxlength="500" value="{{reason}}" aria-describedby="reason-hint">
<p id="reason-hint" class="hint">{{t.reason_hint}}</p>
<button type="submit">{{t.show}}</button>
</form>
{{#listed}}
<p>{{t.alerts}}: {{count}}. {{t.logged_as_query}} {{query_seq}}.</p>
{{^has_alerts}}<p>{{t.no_alerts}}</p>{{/has_alerts}}
{{#alerts}}
<article class="alert sev-{{severity_class}}" aria-labelledby="a-{{seq}}">
<h2 id="a-{{seq}}"><span class="badge">{{severity}}</span> {{rule}} <span class="small">– {{state}}</span></h2>
<p>{{summary}}</p>
<dl>
<dt>{{t.actor}}</dt><dd>{{actor}}</dd>
<dt>{{t.subject}}</dt><dd>{{subject}}</dd>
<dt>{{t.occurred}}</dt><dd>{{occurred}}</dd>
<dt>{{t.evidence}}</dt><dd>{{evidence}}</dd>
</dl>
{{#deadline}}<p class="deadline{{#overdue}} overdue{{/overdue}}"><strong>{{t.deadline}}</strong> {{deadline}} ({{#overdue}}{{t.overdue}}{{/overdue}}{{^overdue}}{{left}} {{t.left}}{{/overdue}})</p>{{/deadline}}
{{#has_decisions}}<h3>{{t.decisions}}</h3><ul>{{#decisions}}<li>{{when}}: {{state}} – {{by}}{{#note}}: «{{note}}»{{/note}}</li>{{/decisions}}</ul>{{/has_decisions}}
<form method="post" action="/console/alerts/decide" class="stack decide">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="alert_id" value="{{alert_id}}">
<label for="state-{{seq}}">{{t.decide}}</label>
<select id="state-{{seq}}" name="state">
<option value="ACKNOWLEDGED">{{t.ACKNOWLEDGED}}</option>
<option value="RESOLVED_JUSTIFIED">{{t.RESOLVED_JUSTIFIED}}</option>
<option value="RESOLVED_VIOLATION">{{t.RESOLVED_VIOLATION}}</option>
<option value="RESOLVED_FALSE_POSITIVE">{{t.RESOLVED_FALSE_POSITIVE}}</option>
</select>
<label for="note-{{seq}}">{{t.note}}</label>
<textarea id="note-{{seq}}" name="note" rows="2" maxlength="2000" aria-describedby="note-hint-{{seq}}"></textarea>
<p id="note-hint-{{seq}}" class="hint">{{t.note_hint}}</p>
<button type="submit">{{t.save}}</button>
</form>
</article>
{{/alerts}}
{{/listed}}
)";

constexpr char kStaff[] = R"(<p>{{t.staff_intro}}</p>
{{> lookup}}
{{#searched}}
<section aria-labelledby="activity">
<h2 id="activity">{{t.opened_by}} {{actor_name}} ({{id}})</h2>
<p>{{count}} {{t.entries}}. {{t.logged_as_query}} {{query_seq}}.</p>
{{#has_rows}}
<div class="scroll"><table>
<thead><tr><th scope="col">{{t.time}}</th><th scope="col">{{t.subject}}</th><th scope="col">{{t.what}}</th><th scope="col">{{t.purpose}}</th></tr></thead>
<tbody>
{{#rows}}
{{#erased}}<tr class="erased"><td>{{time}}</td><td colspan="3">{{t.erased}}</td></tr>{{/erased}}
{{^erased}}<tr><td>{{time}}</td><td>{{subject}}</td><td>{{what}}{{#event_reason}}<br><span class="small">{{event_reason}}</span>{{/event_reason}}</td><td>{{purpose}}</td></tr>{{/erased}}
{{/rows}}
</tbody></table></div>
{{/has_rows}}
{{^has_rows}}<p>{{t.no_entries}}</p>{{/has_rows}}
<form method="post" action="/console/staff/reviewed" class="stack">
<input type="hidden" name="csrf" value="{{csrf}}">
<input type="hidden" name="id" value="{{id}}">
<input type="hidden" name="from" value="{{from}}">
<input type="hidden" name="to" value="{{to}}">
<label for="review-note">{{t.note}}</label>
<textarea id="review-note" name="note" rows="2" maxlength="2000" required></textarea>
<button type="submit">{{t.mark_reviewed}}</button>
</form>
</section>
{{/searched}}
)";

constexpr char kHealth[] = R"(<section aria-labelledby="h-ledger">
<h2 id="h-ledger">{{t.ledger}}</h2>
{{#read_only}}<p class="error" role="alert">{{t.read_only}}: {{problem}}</p>{{/read_only}}
<dl>
<dt>{{t.ledger_size}}</dt><dd>{{ledger_size}}</dd>
<dt>{{t.checkpoint}}</dt><dd>{{#checkpoint}}{{t.tree_size}} {{tree_size}}, {{t.signed}} {{checkpoint_time}}<br><span class="small mono">{{t.root}} {{root}}</span>{{/checkpoint}}{{^checkpoint}}{{t.none}}{{/checkpoint}}</dd>
<dt>{{t.verified_at_start}}</dt><dd>{{#verified}}{{t.passed}}{{/verified}}{{^verified}}{{t.pending}}{{/verified}}</dd>
<dt>{{t.last_verification}}</dt><dd>{{last_verification}}</dd>
</dl>
</section>
<section aria-labelledby="h-sources">
<h2 id="h-sources">{{t.sources}}</h2>
{{#has_sources}}<div class="scroll"><table><thead><tr><th scope="col">{{t.source}}</th><th scope="col">{{t.last_event}}</th><th scope="col">{{t.events}}</th></tr></thead><tbody>
{{#sources}}<tr><td>{{name}}</td><td>{{last}}</td><td>{{events}}</td></tr>{{/sources}}
</tbody></table></div>{{/has_sources}}
{{^has_sources}}<p>{{t.no_sources}}</p>{{/has_sources}}
</section>
<section aria-labelledby="h-ops">
<h2 id="h-ops">{{t.backups}}, {{t.retention}}, {{t.detection}}</h2>
<dl>
<dt>{{t.backups}}</dt><dd>{{t.latest_backup}}: {{latest_backup}}</dd>
<dt>{{t.retention}}</dt><dd>{{t.last_run}}: {{retention}}</dd>
<dt>{{t.detection_lag}}</dt><dd>{{lag_entries}} {{t.entries}}, {{lag_seconds}} {{t.seconds}}</dd>
</dl>
</section>
)";

constexpr char kMessage[] = R"(<p><a href="{{back}}">{{t.back}}</a></p>
)";

constexpr char kStylesheet[] =
    R"(:root { --ink: #1b1b1b; --paper: #fff; --line: #c8c8c8; --accent: #0b5394;
  --warn: #8a4b00; --bad: #a40000; --soft: #f2f5f8; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); background: var(--paper); }
.skip { position: absolute; left: -100rem; }
.skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem; z-index: 1; }
header { background: var(--accent); color: #fff; }
nav { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; padding: .75rem 1rem; max-width: 72rem; margin: 0 auto; }
nav a, nav span { color: #fff; }
nav .brand { font-weight: bold; font-size: 1.2rem; margin-right: 1rem; }
nav .signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f0a000; outline-offset: 2px; }
form.stack { display: flex; flex-direction: column; gap: .35rem; max-width: 36rem; }
form.row, div.row { display: flex; flex-wrap: wrap; gap: 1rem; align-items: end; margin: .5rem 0; }
div.row > div { display: flex; flex-direction: column; }
input, select, textarea, button { font: inherit; padding: .4rem .5rem; border: 1px solid #767676; border-radius: 3px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; width: fit-content; }
button.secondary { background: var(--paper); color: var(--accent); }
.hint, .small { font-size: .9rem; color: #4a4a4a; margin: 0; }
.mono { font-family: "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.error { color: var(--bad); font-weight: bold; border-left: 4px solid var(--bad); padding-left: .5rem; }
.notice { border-left: 4px solid var(--accent); padding-left: .5rem; }
.warn { color: var(--warn); }
.proof { background: var(--soft); padding: .5rem .75rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--ink); }
tr.erased td { color: #595959; font-style: italic; }
article.alert { border: 1px solid var(--line); border-left-width: 6px; padding: .5rem 1rem; margin: 1rem 0; }
article.alert h2 { margin-top: .25rem; }
.sev-critical, .sev-high { border-left-color: var(--bad) !important; }
.sev-medium { border-left-color: var(--warn) !important; }
.badge { font-size: .85rem; border: 1px solid currentColor; border-radius: 3px; padding: 0 .3rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dt { font-weight: bold; } dd { margin: 0; overflow-wrap: anywhere; }
.deadline { background: #fff4e5; padding: .5rem; }
.deadline.overdue { background: #fde8e8; color: var(--bad); }
)";

const char* Template(Page page) {
  switch (page) {
    case Page::kSignIn: return kSignIn;
    case Page::kPerson: return kPerson;
    case Page::kAlerts: return kAlerts;
    case Page::kStaff: return kStaff;
    case Page::kHealth: return kHealth;
    case Page::kMessage: return kMessage;
  }
  return kMessage;
}

}  // namespace

std::string_view Language(std::string_view lang) { return lang == "en" ? "en" : "nb"; }

std::string Word(std::string_view lang, std::string_view key) {
  auto it = AllWords().find(key);
  if (it == AllWords().end()) return std::string(key);
  return Language(lang) == "en" ? it->second.en : it->second.nb;
}

std::string Render(Page page, std::string_view lang, Data data) {
  lang = Language(lang);
  Data words;
  for (const auto& [key, text] : AllWords()) {
    words.set(std::string(key), lang == "en" ? text.en : text.nb);
  }
  data.set("t", words);
  data.set("lang", std::string(lang));
  data.set("other_lang", lang == "en" ? "nb" : "en");
  data.set("lookup", Data(kainjow::mustache::partial([] { return std::string(kLookupForm); })));
  kainjow::mustache::mustache body_template{Template(page)};
  kainjow::mustache::mustache layout{kLayout};
  if (!body_template.is_valid() || !layout.is_valid()) {
    // A template innsyn ships is broken: console_test renders them all.
    return "<!doctype html><title>innsyn</title><p>template error: " +
           kainjow::mustache::html_escape(body_template.error_message() + layout.error_message());
  }
  data.set("body", body_template.render(data));
  return layout.render(data);
}

std::string_view Stylesheet() { return kStylesheet; }

}  // namespace innsyn::daemon::console
