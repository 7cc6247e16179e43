// The clinic's week: shifts, and the appointments that fill them.
#include <fmt/format.h>

#include <algorithm>

#include "bench/clinic_sim_internal.h"

namespace innsyn::bench::sim {

// Weekdays: clinicians and receptionists on an early or a late shift,
// alternating by week, so that the clinic is staffed from 07:15 to 19:45;
// the billing clerk and the manager in office hours. Every Saturday one
// dentist or hygienist and one receptionist. One week of holiday each when
// there are enough colleagues to cover.
void Builder::MakeShifts() {
  std::vector<int> chair = StaffWithRole("dentist");
  for (int h : StaffWithRole("hygienist")) chair.push_back(h);
  std::vector<int> nurses = StaffWithRole("dental_nurse");
  std::vector<int> desk = StaffWithRole("receptionist");
  const int weeks = (options_.days + 6) / 7;
  auto rank_in = [](const std::vector<int>& group, size_t s) {
    return static_cast<int>(std::find(group.begin(), group.end(), static_cast<int>(s)) -
                            group.begin());
  };
  // Holidays in different weeks within each group, so that both shifts
  // keep someone at the chair.
  std::vector<int> holiday_week(staff_.size(), -1);
  for (size_t s = 0; s < staff_.size(); ++s) {
    const std::string& role = staff_[s].member.role;
    if (weeks < 6 || !staff_[s].working) continue;
    if ((role == "dentist" || role == "hygienist") && chair.size() >= 4) {
      holiday_week[s] = 1 + (rank_in(chair, s) * 2) % (weeks - 2);
    } else if (role == "dental_nurse" && nurses.size() >= 2) {
      holiday_week[s] = 1 + (rank_in(nurses, s) * 2 + 1) % (weeks - 2);
    }
  }
  auto available = [&](int s, int day) {
    const StaffInfo& info = staff_[static_cast<size_t>(s)];
    absl::CivilDay civil = Day(day);
    if (!info.working || IsClosedDay(day)) return false;
    if (info.member.start && civil < *info.member.start) return false;
    if (info.member.end && civil > *info.member.end) return false;
    return day / 7 != holiday_week[static_cast<size_t>(s)];
  };
  // Saturdays: the next available in turn from each group.
  auto saturday_pick = [&](const std::vector<int>& group, int day) {
    for (size_t i = 0; i < group.size(); ++i) {
      int s = group[(static_cast<size_t>(day / 7) + i) % group.size()];
      if (available(s, day)) return s;
    }
    return -1;
  };
  for (int day = 0; day < options_.days; ++day) {
    if (absl::GetWeekday(Day(day)) != absl::Weekday::saturday || IsClosedDay(day)) continue;
    for (int s : {saturday_pick(chair, day), saturday_pick(desk, day)}) {
      if (s >= 0)
        staff_[static_cast<size_t>(s)].shifts[static_cast<size_t>(day)] =
            Shift{Local(day, 10, 0), Local(day, 14, 30)};
    }
  }
  for (size_t s = 0; s < staff_.size(); ++s) {
    StaffInfo& info = staff_[s];
    const std::string& role = info.member.role;
    for (int day = 0; day < options_.days; ++day) {
      if (!available(static_cast<int>(s), day)) continue;
      if (absl::GetWeekday(Day(day)) == absl::Weekday::saturday) continue;
      const int week = day / 7;
      auto& shift = info.shifts[static_cast<size_t>(day)];
      if (info.IsClinician()) {
        int rank = rank_in(role == "dental_nurse" ? nurses : chair, s);
        bool early = (rank + week) % 2 == 0;
        shift = early ? Shift{Local(day, 7, 30), Local(day, 15, 30)}
                      : Shift{Local(day, 11, 30), Local(day, 19, 30)};
      } else if (role == "receptionist") {
        bool early = (rank_in(desk, s) + week) % 2 == 0;
        if (desk.size() == 1) {
          shift = Shift{Local(day, 8, 0), Local(day, 16, 0)};
        } else {
          shift = early ? Shift{Local(day, 7, 15), Local(day, 15, 15)}
                        : Shift{Local(day, 11, 45), Local(day, 19, 45)};
        }
      } else if (role == "billing_clerk") {
        shift = Shift{Local(day, 8, 0), Local(day, 16, 0)};
      } else {
        shift = Shift{Local(day, 8, 30), Local(day, 15, 30)};
      }
    }
  }
}

int Builder::PickPatient(int clinician, absl::Time start) {
  const StaffInfo& info = staff_[static_cast<size_t>(clinician)];
  auto& queue = follow_up_queue_[static_cast<size_t>(clinician)];
  auto free = [&](int p) {
    const Patient& patient = patients_[static_cast<size_t>(p)];
    return !patient.off_limits && patient.last_booked < start - absl::Hours(24 * 14);
  };
  if (info.member.role == "dentist" && !queue.empty() && random_() % 4 == 0) {
    size_t at = random_() % queue.size();
    int p = queue[at];
    queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(at));
    if (free(p)) return p;
  }
  for (int attempt = 0; attempt < 12; ++attempt) {
    int p = static_cast<int>(random_() % static_cast<uint64_t>(options_.patients));
    if (info.member.role == "dentist" &&
        patients_[static_cast<size_t>(p)].home_dentist != clinician && attempt < 10) {
      continue;
    }
    if (free(p)) return p;
  }
  return -1;
}

void Builder::FillSlots(int clinician, int day, absl::Duration slot, absl::Time from,
                        absl::Time to) {
  for (absl::Time start = from; start + slot <= to; start += slot) {
    if (random_() % 100 >= 82) {
      // An empty slot; now and then one a patient booked and cancelled.
      if (random_() % 10 == 0) {
        Appointment cancelled;
        cancelled.clinician = clinician;
        cancelled.patient = PickPatient(clinician, start);
        if (cancelled.patient < 0) continue;
        cancelled.start = start;
        cancelled.length = slot;
        Book(cancelled);
        absl::Time latest = start - absl::Hours(24);
        if (cancelled.Known() + absl::Hours(1) >= latest) continue;
        cancelled.cancelled_at = Between(random_, cancelled.Known() + absl::Hours(1), latest);
        appointments_.push_back(cancelled);
      }
      continue;
    }
    Appointment a;
    a.clinician = clinician;
    a.patient = PickPatient(clinician, start);
    if (a.patient < 0) continue;
    a.start = start;
    a.length = slot;
    patients_[static_cast<size_t>(a.patient)].last_booked = start;
    Book(a);
    appointments_.push_back(a);
    if (staff_[static_cast<size_t>(clinician)].member.role == "dentist" && random_() % 5 == 0) {
      follow_up_queue_[static_cast<size_t>(clinician)].push_back(a.patient);
    }
  }
  (void)day;
}

// Booked by phone at the reception on a day it is staffed, or by the
// patient on the website at any hour; bookings before the period came with
// the go-live import.
void Builder::Book(Appointment& a) {
  a.id = fmt::format("appt-{}", next_appointment_++);
  a.original_start = a.start;
  auto reception_time = [&](absl::Time around,
                            absl::Time latest) -> std::optional<std::pair<int, absl::Time>> {
    // The phone is answered on weekdays, by one of those on duty; on other
    // days the patient books on the website instead.
    int day = DayOf(around);
    if (absl::GetWeekday(Day(day)) == absl::Weekday::saturday) return std::nullopt;
    std::vector<std::pair<int, Shift>> on_duty;
    for (int r : StaffWithRole("receptionist")) {
      if (auto shift = ShiftOf(r, day)) on_duty.emplace_back(r, *shift);
    }
    if (on_duty.empty()) return std::nullopt;
    auto [r, shift] = on_duty[random_() % on_duty.size()];
    absl::Time t = Between(random_, shift.start, shift.end);
    if (t < latest) return std::make_pair(r, t);
    return std::nullopt;
  };
  auto website_time = [&](absl::Time around) {
    int day = DayOf(around);
    return Local(day, 7 + static_cast<int>(random_() % 15), static_cast<int>(random_() % 60),
                 static_cast<int>(random_() % 60));
  };
  bool acute = random_() % 100 < 5;
  int lead_days = acute ? 0 : 1 + static_cast<int>(random_() % 40);
  absl::Time around = acute ? a.start - absl::Hours(2) : a.start - absl::Hours(24 * lead_days);
  absl::Time latest = a.start - absl::Minutes(acute ? 30 : 120);
  a.booked_by = kWebsite;
  a.booked_at = website_time(around);
  if (random_() % 100 < 60) {
    if (auto found = reception_time(around, latest)) {
      a.booked_by = found->first;
      a.booked_at = found->second;
    }
  }
  if (a.booked_at >= latest) a.booked_at = latest - absl::Minutes(random_() % 60);
  if (a.booked_at < import_at_ + absl::Hours(1)) {
    a.booked_by = kImport;
    a.booked_at = import_at_;
  }
  // Some appointments were first booked for a later day and moved here.
  if (random_() % 100 < 5 && a.booked_at + absl::Hours(24 * 5) < a.start) {
    a.original_start = a.start + absl::Hours(24 * (1 + static_cast<int>(random_() % 10)));
    absl::Time moved =
        Between(random_, a.booked_at + absl::Hours(1), a.start - absl::Hours(24 * 3));
    a.moved_by = kWebsite;
    a.moved_at =
        Local(DayOf(moved), 7 + static_cast<int>(random_() % 15), static_cast<int>(random_() % 60));
    if (a.moved_at <= a.booked_at) a.moved_at = a.booked_at + absl::Hours(1);
    int r = ReceptionistAt(moved, a.patient);
    if (r >= 0 && moved > a.booked_at) {
      a.moved_by = r;
      a.moved_at = moved;
    }
  }
}

void Builder::MakeAppointments() {
  follow_up_queue_.assign(staff_.size(), {});
  for (int day = 0; day < options_.days; ++day) {
    for (size_t s = 0; s < staff_.size(); ++s) {
      const StaffInfo& info = staff_[s];
      auto shift = info.shifts[static_cast<size_t>(day)];
      if (!shift || !info.IsClinician()) continue;
      int c = static_cast<int>(s);
      if (info.member.role == "dentist") {
        FillSlots(c, day, absl::Minutes(45), shift->start, shift->end);
      } else if (info.member.role == "hygienist") {
        FillSlots(c, day, absl::Minutes(60), shift->start, shift->end);
      } else if (info.member.role == "oral_surgeon") {
        // The first half of the shift is kept for referred patients.
        FillSlots(c, day, absl::Minutes(60), shift->start + absl::Hours(4), shift->end);
      } else {
        // Dental nurses assist at the chair; their own short appointments
        // (fluoride, polishing) fill the second half of the shift.
        FillSlots(c, day, absl::Minutes(30), shift->start + absl::Hours(4), shift->end);
      }
    }
  }
  std::stable_sort(appointments_.begin(), appointments_.end(),
                   [](const Appointment& a, const Appointment& b) { return a.start < b.start; });
}

}  // namespace innsyn::bench::sim
