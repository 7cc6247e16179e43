#!/usr/bin/env bash
# Times the console's pages on a large ledger, as a browser asks for them
# (HTTPS is left out: plaintext on loopback, so the figure is innsynd's
# work): fills a ledger of N clinic-like events (innsyn-ledger-bench, 20,000
# patients, so about N/20,000 accesses each), starts innsynd on it with the
# console, signs in with a password and TOTP code, then asks ROUNDS times
# for each page: Find a person (a patient's whole history, with its
# completeness proof), Staff activity (one of 40 employees' month: its first
# 1,000 rows, all a page shows), Alerts and
# Health. Prints the median and 95th percentile in milliseconds, and the
# page's size. Every look is recorded in the ledger, as in real use.
# Usage: scripts/bench-console.sh [N=1000000] [ROUNDS=50] [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-1000000}"
rounds="${2:-50}"
build="${3:-$here/build}"
work="$(mktemp -d)"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
echo "bench-console: filling a ledger of $n events"
"$build/bench/innsyn-ledger-bench" --events "$n" --data-dir "$work/data" --keep --queries 1 \
  --verify-runs 1 > "$work/fill.log"
printf 'a long enough passphrase\n' > "$work/password"
"$build/ctl/innsynctl" console-user add --file "$work/users.toml" --name bench \
  --role controller --password-file "$work/password" > "$work/user.txt"
printf 'console_users_file = "%s"\n' "$work/users.toml" > "$work/innsynd.toml"
"$build/daemon/innsynd" --config "$work/innsynd.toml" --data-dir "$work/data" \
  --listen 127.0.0.1:0 --console-listen 127.0.0.1:0 --metrics-listen "" \
  --port-file "$work/ports" > "$work/innsynd.log" 2>&1 &
pid=$!
until [ -s "$work/ports" ]; do sleep 0.2; done
export INNSYN_SERVER="127.0.0.1:$(sed -n 1p "$work/ports")"
# Pages that prove completeness need the verification at start to pass.
until "$build/ctl/innsynctl" status | grep -q "verified at start"; do sleep 1; done
/usr/bin/python3 - "$(sed -n 4p "$work/ports")" "$(grep -o 'secret=[A-Z2-7]*' "$work/user.txt" | cut -d= -f2)" \
  "$rounds" <<'END'
import base64, hashlib, hmac, http.client, re, statistics, struct, sys, time, urllib.parse

port, secret, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

def totp():
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time() // 30)), hashlib.sha1).digest()
    o = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000:06d}"

connection = http.client.HTTPConnection("127.0.0.1", port)
def request(method, path, body=None, cookie=None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    start = time.perf_counter()
    connection.request(method, path, urllib.parse.urlencode(body or {}), headers)
    response = connection.getresponse()
    text = response.read()
    return time.perf_counter() - start, response, text

_, response, _ = request("POST", "/console/signin",
                         {"user": "bench", "password": "a long enough passphrase", "code": totp()})
cookie = response.getheader("Set-Cookie").split(";")[0]
_, _, page = request("GET", "/console/person", cookie=cookie)
csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
patient = f"{10000000000 + 4242 * 7919:011d}"
pages = {
    "Find a person (one patient's history)":
        ("POST", "/console/person", {"csrf": csrf, "id": patient, "reason": "bench"}),
    "Staff activity (one employee, one month)":
        ("POST", "/console/staff", {"csrf": csrf, "id": "staff-3", "reason": "bench",
                                    "from": time.strftime("%Y-%m-%d", time.localtime(time.time() - 60 * 86400)),
                                    "to": time.strftime("%Y-%m-%d", time.localtime(time.time() - 31 * 86400))}),
    "Alerts": ("GET", "/console/alerts", None),
    "Health": ("GET", "/console/health", None),
}
print(f"{'page':44} {'median ms':>10} {'p95 ms':>8} {'bytes':>9}")
for name, (method, path, body) in pages.items():
    times = []
    for _ in range(rounds):
        seconds, response, text = request(method, path, body, cookie)
        assert response.status == 200, (name, response.status, text[:300])
        times.append(seconds * 1000)
    times.sort()
    rows = text.count(b"<tr>") - 1
    print(f"{name:44} {statistics.median(times):10.1f} {times[int(len(times) * 0.95) - 1]:8.1f}"
          f" {len(text):9d}  ({max(rows, 0)} rows)")
END
