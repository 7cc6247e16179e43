# Sourced by scripts/test-at.sh and scripts/test-sanitizers.sh: sets
# INNSYN_TEST_CLOCK_OFFSET_SECONDS so that innsynd, innsynctl and the test
# programs, which all read innsyn's clock (base/clock.h), run as if it were
# DATE, and says which date that is.
# Usage: fake_date DATE   (as date(1) reads it, e.g. 2027-01-03T23:30:00+01:00)
fake_date() {
  local target
  target=$(date -d "$1" +%s)
  export INNSYN_TEST_CLOCK_OFFSET_SECONDS=$((target - $(date +%s)))
  echo "running the suite at $(TZ=Europe/Oslo date -d "@$target" '+%A %Y-%m-%d %H:%M %Z') (Europe/Oslo)"
}
