// The clinic's people and calendar; their week and appointments are in
// clinic_schedule.cc, the events they cause in clinic_routine.cc, the
// injected incidents in clinic_incidents*.cc.
#include "bench/clinic_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "base/strings.h"
#include "bench/clinic_sim_internal.h"

namespace innsyn::bench {
namespace sim {
namespace {

constexpr std::array kFirstNames = {
    "Kari",  "Ola",  "Ingrid", "Lars",  "Anne",   "Per",   "Marit",   "Jon",  "Sofie",
    "Emil",  "Nora", "Jakob",  "Emma",  "Henrik", "Ida",   "Magnus",  "Sara", "Sindre",
    "Hilde", "Tor",  "Astrid", "Bjørn", "Liv",    "Eirik", "Solveig", "Knut", "Maja",
    "Odd",   "Tone", "Håkon",  "Silje", "Geir",   "Randi", "Even",    "Thea", "Arne"};
constexpr std::array kSurnames = {
    "Hansen",      "Johansen",  "Olsen",         "Larsen",     "Andersen",  "Pedersen", "Nilsen",
    "Kristiansen", "Jensen",    "Karlsen",       "Johnsen",    "Pettersen", "Eriksen",  "Berg",
    "Haugen",      "Hagen",     "Johannessen",   "Andreassen", "Jacobsen",  "Dahl",     "Jørgensen",
    "Halvorsen",   "Henriksen", "Lund",          "Sørensen",   "Jakobsen",  "Moen",     "Gundersen",
    "Iversen",     "Strand",    "Solberg",       "Svendsen",   "Eide",      "Knutsen",  "Martinsen",
    "Paulsen",     "Bakken",    "Kristoffersen", "Mathisen",   "Lie",       "Amundsen", "Nguyen",
    "Rasmussen",   "Ali",       "Lunde",         "Solheim",    "Berge",     "Moe",      "Nygård",
    "Bakke"};
// Staff surnames are their own, so that no patient shares one by chance.
constexpr std::array kStaffSurnames = {"Lie-Aas", "Brekke",  "Vik",    "Fossum",  "Røed",   "Aune",
                                       "Tveit",   "Sæther",  "Holm",   "Rønning", "Stene",  "Myhre",
                                       "Bjerke",  "Nystuen", "Grønli", "Kvam",    "Løken",  "Engen",
                                       "Rustad",  "Skaug",   "Aasen",  "Vold",    "Tangen", "Wold"};
constexpr std::array kStreets = {
    "Storgata",        "Kirkeveien",     "Thereses gate", "Ullevålsveien", "Bogstadveien",
    "Trondheimsveien", "Helgesens gate", "Sognsveien",    "Pilestredet",   "Markveien",
    "Tåsenveien",      "Grefsenveien",   "Hoffsveien",    "Maridalsveien", "Vogts gate",
    "Jernbanegata",    "Skogveien",      "Bekkeveien",    "Granstubben",   "Solveien"};
constexpr std::array kPostplaces = {"0155 Oslo",    "0350 Oslo",    "0454 Oslo",      "0557 Oslo",
                                    "0661 Oslo",    "0768 Oslo",    "0873 Oslo",      "0979 Oslo",
                                    "1360 Fornebu", "1410 Kolbotn", "2000 Lillestrøm"};

// Roles of the first six working staff, then of the rest in turn.
constexpr std::array<const char*, 6> kCoreRoles = {"dentist",      "hygienist",     "dental_nurse",
                                                   "receptionist", "billing_clerk", "manager"};
constexpr std::array<const char*, 7> kExtraRoles = {"dentist",     "oral_surgeon", "dental_nurse",
                                                    "dentist",     "hygienist",    "receptionist",
                                                    "dental_nurse"};

std::string AsciiId(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
      continue;
    }
    // Two-byte UTF-8 for æ ø å Æ Ø Å.
    if (i + 1 >= text.size()) break;
    unsigned char d = static_cast<unsigned char>(text[++i]);
    if (c == 0xC3 && (d == 0xA6 || d == 0x86)) out += "ae";
    if (c == 0xC3 && (d == 0xB8 || d == 0x98)) out += "o";
    if (c == 0xC3 && (d == 0xA5 || d == 0x85)) out += "a";
  }
  return out;
}

}  // namespace

const char* SystemName(Source source) {
  switch (source) {
    case Source::kJournal: return "journal";
    case Source::kXray: return "xray";
    case Source::kBilling: return "billing";
    case Source::kWebsite: return "website";
  }
  return "";
}

const char* InstanceName(Source source) {
  switch (source) {
    case Source::kJournal: return "clinic-1";
    case Source::kXray: return "sensor-1";
    case Source::kBilling: return "clinic-1";
    case Source::kWebsite: return "www";
  }
  return "";
}

bool StaffInfo::IsClinician() const {
  return member.role == "dentist" || member.role == "hygienist" || member.role == "dental_nurse" ||
         member.role == "oral_surgeon";
}

Builder::Builder(const ClinicOptions& options, absl::TimeZone tz)
    : options_(options), tz_(tz), random_(options.seed) {
  import_at_ = Local(0, 5, 0);
  closed_.assign(static_cast<size_t>(options_.days), false);
  // Norwegian public holidays: fixed dates and those that follow Easter
  // (the Gregorian computus).
  for (int year = options_.first_day.year(); year <= (options_.first_day + options_.days).year();
       ++year) {
    int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
    int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
    int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    absl::CivilDay easter(year, month, day);
    std::vector<absl::CivilDay> holidays = {absl::CivilDay(year, 1, 1),
                                            easter - 3,
                                            easter - 2,
                                            easter + 1,
                                            absl::CivilDay(year, 5, 1),
                                            absl::CivilDay(year, 5, 17),
                                            easter + 39,
                                            easter + 50,
                                            absl::CivilDay(year, 12, 25),
                                            absl::CivilDay(year, 12, 26)};
    for (absl::CivilDay holiday : holidays) {
      int index = static_cast<int>(holiday - options_.first_day);
      if (index < 0 || index >= options_.days) continue;
      if (absl::GetWeekday(holiday) == absl::Weekday::sunday) continue;
      closed_[static_cast<size_t>(index)] = true;
    }
  }
  for (int day = 0; day < options_.days; ++day) {
    if (closed_[static_cast<size_t>(day)]) {
      closed_dates_.push_back(absl::FormatCivilTime(Day(day)));
    }
  }
}

absl::Time Builder::Local(int day, int hour, int minute, int second) const {
  absl::CivilDay d = Day(day);
  return absl::FromCivil(absl::CivilSecond(d.year(), d.month(), d.day(), hour, minute, second),
                         tz_);
}

int Builder::DayOf(absl::Time t) const {
  return static_cast<int>(absl::CivilDay(absl::ToCivilDay(t, tz_)) - options_.first_day);
}

bool Builder::IsClosedDay(int day) const {
  if (day < 0 || day >= options_.days) return true;
  return closed_[static_cast<size_t>(day)] || absl::GetWeekday(Day(day)) == absl::Weekday::sunday;
}

std::optional<Shift> Builder::ShiftOf(int staff, int day) const {
  if (day < 0 || day >= options_.days) return std::nullopt;
  return staff_[static_cast<size_t>(staff)].shifts[static_cast<size_t>(day)];
}

absl::Time Builder::Between(std::mt19937_64& random, absl::Time from, absl::Time to) const {
  int64_t span = absl::ToInt64Seconds(to - from);
  if (span <= 0) return from;
  return from + absl::Seconds(static_cast<int64_t>(random() % static_cast<uint64_t>(span)));
}

int Builder::Uniform(std::mt19937_64& random, int low, int high) const {
  return low + static_cast<int>(random() % static_cast<uint64_t>(high - low + 1));
}

bool Builder::Chance(std::mt19937_64& random, double p) const {
  return static_cast<double>(random() % 1'000'000) < p * 1'000'000;
}

std::string Builder::Rfc3339(absl::Time t) const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, tz_);
}

std::string Builder::NewAddress() {
  while (true) {
    std::string address =
        fmt::format("{} {}, {}", kStreets[random_() % kStreets.size()], 1 + random_() % 180,
                    kPostplaces[random_() % kPostplaces.size()]);
    auto at = std::lower_bound(used_addresses_.begin(), used_addresses_.end(), address);
    if (at != used_addresses_.end() && *at == address) continue;
    used_addresses_.insert(at, address);
    return address;
  }
}

std::vector<int> Builder::StaffWithRole(const std::string& role, bool working_only) const {
  std::vector<int> found;
  for (size_t i = 0; i < staff_.size(); ++i) {
    if (staff_[i].member.role != role) continue;
    if (working_only && !staff_[i].working) continue;
    found.push_back(static_cast<int>(i));
  }
  return found;
}

// The desk's work is shared: whoever of those on duty is free, which the
// minute and the patient decide (patients of one slot arrive together).
int Builder::ReceptionistAt(absl::Time t, int patient) const {
  int day = DayOf(t);
  std::vector<int> on_duty;
  for (int r : StaffWithRole("receptionist")) {
    auto shift = ShiftOf(r, day);
    if (shift && shift->Contains(t)) on_duty.push_back(r);
  }
  if (on_duty.empty()) return -1;
  uint64_t turn =
      static_cast<uint64_t>(absl::ToUnixSeconds(t) / 60) + static_cast<uint64_t>(patient);
  return on_duty[turn % on_duty.size()];
}

void Builder::MakeStaff() {
  std::set<std::string> ids;
  auto add = [&](const std::string& role, bool working) {
    size_t n = staff_.size();
    StaffInfo info;
    info.working = working;
    std::string first = kFirstNames[random_() % kFirstNames.size()];
    std::string surname = kStaffSurnames[n % kStaffSurnames.size()];
    std::string id = StrCat(AsciiId(first.substr(0, 1)), ".", AsciiId(surname));
    while (ids.count(id)) id += "2";
    ids.insert(id);
    info.member.id = id;
    info.member.name = StrCat(first, " ", surname);
    info.member.role = role;
    info.member.surname = surname;
    info.member.address = NewAddress();
    if (random_() % 2 == 0) {
      info.member.start = absl::CivilDay(2012 + static_cast<int>(random_() % 12),
                                         1 + static_cast<int>(random_() % 12), 1);
    }
    if (role == "dentist" || role == "hygienist" || role == "oral_surgeon") {
      info.hpr = fmt::format("{}", 9'100'000 + n * 37);
    }
    bool front_desk = role == "receptionist" || role == "billing_clerk" || role == "manager";
    info.address = fmt::format("10.20.{}.{}", front_desk ? 2 : 1, 10 + n);
    info.workstation = front_desk ? fmt::format("resepsjon-{}", n) : fmt::format("beh-{}", n);
    info.shifts.assign(static_cast<size_t>(options_.days), std::nullopt);
    staff_.push_back(std::move(info));
    return static_cast<int>(n);
  };
  for (int i = 0; i < options_.staff; ++i) {
    add(i < 6 ? kCoreRoles[static_cast<size_t>(i)]
              : kExtraRoles[static_cast<size_t>(i - 6) % kExtraRoles.size()],
        true);
  }
  // Start and end dates inside the period that the routine respects.
  if (options_.days >= 35) {
    std::vector<int> dentists = StaffWithRole("dentist");
    std::vector<int> hygienists = StaffWithRole("hygienist");
    if (dentists.size() >= 3) {
      staff_[static_cast<size_t>(dentists.back())].member.start =
          options_.first_day + options_.days / 4;
    }
    if (hygienists.size() >= 2) {
      staff_[static_cast<size_t>(hygienists.back())].member.end =
          options_.first_day + options_.days * 3 / 4;
    }
  }
  // Roster entries without work in the period: a former receptionist, a
  // receptionist who starts after it, and two locums.
  int former = add("receptionist", false);
  staff_[static_cast<size_t>(former)].member.start = absl::CivilDay(2021, 3, 1);
  staff_[static_cast<size_t>(former)].member.end = options_.first_day - 24;
  int future = add("receptionist", false);
  staff_[static_cast<size_t>(future)].member.start = options_.first_day + options_.days + 14;
  add("receptionist", false);
  add("receptionist", false);
}

void Builder::MakePatients() {
  auto make = [&](const std::string& surname, const std::string& address) {
    Patient p;
    size_t n = patients_.size();
    int birth_day = 1 + static_cast<int>(random_() % 28);
    int birth_month = 1 + static_cast<int>(random_() % 12);
    int birth_year = static_cast<int>(random_() % 100);
    p.id = fmt::format("{:02d}{:02d}{:02d}{:05d}", birth_day, birth_month, birth_year, n);
    p.first_name = kFirstNames[random_() % kFirstNames.size()];
    p.surname = surname;
    p.address = address;
    p.website_address = fmt::format("{}.{}.{}.{}", 84 + random_() % 8, 208 + random_() % 8,
                                    random_() % 256, 1 + random_() % 254);
    patients_.push_back(std::move(p));
    return static_cast<int>(n);
  };
  std::vector<int> dentists = StaffWithRole("dentist");
  while (static_cast<int>(patients_.size()) < options_.patients) {
    int size = 1 + (random_() % 100 < 45   ? 0
                    : random_() % 100 < 45 ? 1
                                           : static_cast<int>(2 + random_() % 2));
    std::string surname = kSurnames[random_() % kSurnames.size()];
    std::string address = NewAddress();
    int dentist = dentists[random_() % dentists.size()];
    for (int i = 0; i < size && static_cast<int>(patients_.size()) < options_.patients; ++i) {
      int p = make(surname, address);
      patients_[static_cast<size_t>(p)].home_dentist = dentist;
      uint64_t draw = random_() % 100;
      patients_[static_cast<size_t>(p)].consent = draw < 4 ? 1 : draw < 6 ? 2 : 0;
    }
  }
  // Every other employee has a record at the clinic; some have a spouse
  // there (same surname and address) or a parent listed in the roster.
  for (size_t s = 0; s < staff_.size(); ++s) {
    StaffInfo& info = staff_[s];
    if (!info.working || s % 2 != 0) continue;
    info.own_patient = make(info.member.surname, info.member.address);
    info.member.own_subject_ids.push_back(patients_[static_cast<size_t>(info.own_patient)].id);
    if (s % 4 == 0) {
      info.relatives.push_back(make(info.member.surname, info.member.address));
    } else {
      info.roster_relative = make(info.member.surname, NewAddress());
      info.member.related_subject_ids.push_back(
          patients_[static_cast<size_t>(info.roster_relative)].id);
    }
  }
  for (size_t p = static_cast<size_t>(options_.patients); p < patients_.size(); ++p) {
    patients_[p].off_limits = true;
  }
}

}  // namespace sim

absl::StatusOr<Clinic> GenerateClinic(const ClinicOptions& options) {
  if (options.staff < 6 || options.staff > 200) {
    return absl::InvalidArgumentError("clinic: staff must be 6 to 200");
  }
  if (options.patients < 100 || options.patients > 1'000'000) {
    return absl::InvalidArgumentError("clinic: patients must be 100 to 1,000,000");
  }
  if (options.days < 14 || options.days > 730) {
    return absl::InvalidArgumentError("clinic: days must be 14 to 730");
  }
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(options.time_zone, &tz)) {
    return absl::InvalidArgumentError(StrCat("clinic: cannot load time zone ", options.time_zone));
  }
  sim::Builder builder(options, tz);
  builder.MakeStaff();
  builder.MakePatients();
  builder.MakeShifts();
  builder.MakeAppointments();
  builder.MakeReferrals();
  builder.MakeSickDays();
  builder.EmitImport();
  builder.EmitAppointments();
  builder.EmitReferrals();
  builder.EmitMonthEndInvoicing();
  builder.EmitBillingClerk();
  builder.EmitManager();
  builder.EmitWebsite();
  if (options.incidents) builder.InjectIncidents();
  return builder.Finish();
}

std::string RosterToml(const std::vector<anomaly::StaffMember>& roster) {
  auto quote = [](std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "\"";
  };
  auto list = [&](const std::vector<std::string>& ids) {
    std::string out = "[";
    for (size_t i = 0; i < ids.size(); ++i) out += StrCat(i ? ", " : "", quote(ids[i]));
    return out + "]";
  };
  std::string out = "# The clinic's staff roster (simulated).\n";
  for (const anomaly::StaffMember& m : roster) {
    out += StrCat("\n[[staff]]\nid = ", quote(m.id), "\nname = ", quote(m.name),
                  "\nrole = ", quote(m.role), "\n");
    if (m.start) out += StrCat("start = ", absl::FormatCivilTime(*m.start), "\n");
    if (m.end) out += StrCat("end = ", absl::FormatCivilTime(*m.end), "\n");
    out += StrCat("surname = ", quote(m.surname), "\naddress = ", quote(m.address), "\n");
    if (!m.own_subject_ids.empty())
      out += StrCat("own_subject_ids = ", list(m.own_subject_ids), "\n");
    if (!m.related_subject_ids.empty()) {
      out += StrCat("related_subject_ids = ", list(m.related_subject_ids), "\n");
    }
  }
  return out;
}

}  // namespace innsyn::bench
