#include "exporters/process_collector.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "base/allocator.h"
#include "base/strings.h"

namespace innsyn::exporters {
namespace {

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family{name, help, type, {}};
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

// Fields of /proc/self/stat after the command name (which may hold spaces),
// so that field 3 of proc(5), the state, is [0].
std::vector<std::string> StatFields() {
  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  size_t end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) return {};
  std::istringstream rest(text.substr(end_of_name + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

// Seconds since the epoch at which the machine booted: the wall clock less
// the time since boot. (/proc/stat's btime is hidden from a service with
// systemd's ProcSubset=pid.)
double BootTime() {
  timespec realtime{}, since_boot{};
  if (clock_gettime(CLOCK_REALTIME, &realtime) != 0 ||
      clock_gettime(CLOCK_BOOTTIME, &since_boot) != 0) {
    return 0;
  }
  return static_cast<double>(realtime.tv_sec - since_boot.tv_sec) +
         static_cast<double>(realtime.tv_nsec - since_boot.tv_nsec) / 1e9;
}

// proc(5) field numbers, less 3 (see StatFields).
constexpr size_t kUserTicks = 14 - 3;
constexpr size_t kSystemTicks = 15 - 3;
constexpr size_t kStartTicks = 22 - 3;
constexpr size_t kVirtualBytes = 23 - 3;
constexpr size_t kResidentPages = 24 - 3;

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  std::vector<std::string> fields = StatFields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  auto field = [&](size_t i) {
    return i < fields.size() ? static_cast<double>(ParseDecimal(fields[i]).value_or(0)) : 0.0;
  };
  if (fields.size() > kResidentPages && ticks > 0) {
    families.push_back(
        Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::Counter, (field(kUserTicks) + field(kSystemTicks)) / ticks));
    families.push_back(Family("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge, BootTime() + field(kStartTicks) / ticks));
    families.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, field(kVirtualBytes)));
    families.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, field(kResidentPages) * page));
  }
  std::error_code error;
  double open_fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++open_fds;
  }
  families.push_back(
      Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    families.push_back(Family("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  // What of the resident memory the program uses, and what the allocator
  // holds freed, for reuse, without giving it back to the system yet.
  if (const std::optional<AllocatorStats> allocator = ReadAllocatorStats()) {
    prometheus::MetricFamily family{
        "innsyn_allocator_bytes",
        "Memory as tcmalloc sees it: allocated by innsynd (state=\"allocated\"), or freed and "
        "held for reuse, not yet returned to the system, as whole pages (state=\"free_pages\") "
        "or as small blocks in its caches (state=\"free_cached\").",
        MetricType::Gauge,
        {}};
    for (const auto& [state, bytes] : {std::pair{"allocated", allocator->allocated},
                                       std::pair{"free_pages", allocator->free_pages},
                                       std::pair{"free_cached", allocator->free_cached}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"state", state}};
      metric.gauge.value = static_cast<double>(bytes);
      family.metric.push_back(metric);
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace innsyn::exporters
