#!/usr/bin/python3
"""The privacy officer's console, driven in a real headless Chromium.

Starts a real innsynd with TLS (innsynctl pki), its console and its HTTP
listener; feeds it a small clinic's events over HTTPS; creates console
accounts with innsynctl console-user; then, in Chromium through
chromedriver (python3-selenium), signs in with a password and a TOTP code,
finds a patient, downloads the report, resolves an alert as a violation
and checks the ledger recorded it, reviews a staff member's activity and
opens the health page, saving a screenshot of each page. It also checks
what must be refused or harmless: a signed-out request, a form posted
without its CSRF token, portal and ingest accounts, an admin asking for a
patient, a replayed one-time code, and a script in an event's free text.

Times follow innsyn's clock: INNSYN_TEST_CLOCK_OFFSET_SECONDS shifts it for
innsynd, innsynctl and this test alike (scripts/test-at.sh).

Usage: console_browser_test.py --innsynd PATH --innsynctl PATH --screenshots DIR
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zoneinfo

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

OSLO = zoneinfo.ZoneInfo("Europe/Oslo")
PASSWORD = "correct horse battery staple"
INJECTED = '<script>document.title="owned"</script><img src=x onerror="document.title=\'owned\'">'
failures = []


def now():
    return time.time() + int(os.environ.get("INNSYN_TEST_CLOCK_OFFSET_SECONDS", "0"))


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def totp(secret_b32, at=None):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((now() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{code:06d}"


def run(*command, input_text=None):
    result = subprocess.run(command, capture_output=True, text=True, input=input_text, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed: {result.stderr}{result.stdout}")
    return result.stdout


class Clinic:
    """innsynd with TLS, its console, and a small clinic's events."""

    def __init__(self, args, root):
        self.args = args
        self.root = root
        self.pki = os.path.join(root, "pki")
        run(args.innsynctl, "pki", "init", "--dir", self.pki)
        self.users = os.path.join(root, "console-users.toml")
        password_file = os.path.join(root, "password")
        with open(password_file, "w") as f:
            f.write(PASSWORD + "\n")
        self.secrets = {}
        for name, display, role in [("kari", "Kari Nordmann", "controller"),
                                    ("ole", "Ole Drift", "admin")]:
            out = run(args.innsynctl, "console-user", "add", "--file", self.users, "--name", name,
                      "--display-name", display, "--role", role, "--password-file", password_file)
            self.secrets[name] = re.search(r"secret=([A-Z2-7]+)", out).group(1)
        # Accounts of roles that may not sign in, written as an operator
        # might by hand: the same hash and key as kari's.
        text = open(self.users).read()
        kari = text[text.index("[[user]]"):]
        kari = kari[:kari.index("[[user]]", 1)] if kari.count("[[user]]") > 1 else kari
        for role in ("portal", "ingest"):
            entry = re.sub(r"^name = .*$", f'name = "{role}-app"', kari, flags=re.M)
            entry = re.sub(r"^role = .*$", f'role = "{role}"', entry, flags=re.M)
            text += "\n" + entry
            self.secrets[f"{role}-app"] = self.secrets["kari"]
        with open(self.users, "w") as f:
            f.write(text)
        os.chmod(self.users, 0o600)
        with open(os.path.join(root, "roster.toml"), "w") as f:
            f.write('[[staff]]\nid = "dr.lie"\nname = "Kari Lie"\nrole = "dentist"\n\n'
                    '[[staff]]\nid = "ann"\nname = "Ann Berg"\nrole = "receptionist"\n')
        config = os.path.join(root, "innsynd.toml")
        with open(config, "w") as f:
            f.write(f'tls_cert_file = "{self.pki}/server.pem"\n'
                    f'tls_key_file = "{self.pki}/server.key"\n'
                    f'tls_ca_file = "{self.pki}/ca.pem"\n'
                    f'console_users_file = "{self.users}"\n'
                    f'[detection]\nroster_file = "{root}/roster.toml"\n'
                    '[detection.source_silent]\nenabled = false\n')
        self.port_file = os.path.join(root, "ports")
        self.log = open(os.path.join(root, "innsynd.log"), "w")
        self.daemon = subprocess.Popen(
            [args.innsynd, "--config", config, "--data-dir", os.path.join(root, "data"),
             "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
             "--console-listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
             "--detection", "true", "--port-file", self.port_file],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.port_file):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("innsynd did not start: " + open(self.log.name).read())
            time.sleep(0.1)
        ports = open(self.port_file).read().split()
        self.grpc = f"127.0.0.1:{ports[0]}"
        self.http_port = int(ports[2])
        self.console_port = int(ports[3])
        self.base = f"https://127.0.0.1:{self.console_port}"

    def stop(self):
        self.daemon.terminate()
        self.daemon.wait(timeout=60)
        self.log.close()

    def ctl(self, *arguments):
        return run(self.args.innsynctl, "--server", self.grpc, "--tls-ca", f"{self.pki}/ca.pem",
                   "--tls-cert", f"{self.pki}/controller.pem", "--tls-key",
                   f"{self.pki}/controller.key", "--reason", "console test", *arguments)

    def append(self, events):
        context = ssl.create_default_context(cafile=f"{self.pki}/ca.pem")
        context.load_cert_chain(f"{self.pki}/ingest.pem", f"{self.pki}/ingest.key")
        connection = http.client.HTTPSConnection("127.0.0.1", self.http_port, context=context)
        connection.request("POST", "/v1/events:append", json.dumps({"events": events}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"append: {response.status} {body}")


def oslo(day, hour, minute=0):
    """RFC 3339 UTC time of `hour` on day `day` counted from a Monday two to
    three weeks before innsyn's today, so weekdays are the same on any date."""
    today = datetime.datetime.fromtimestamp(now(), OSLO).date()
    monday = today - datetime.timedelta(days=14)
    monday -= datetime.timedelta(days=monday.weekday())
    local = datetime.datetime.combine(monday + datetime.timedelta(days=day),
                                      datetime.time(hour, minute), OSLO)
    return local.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(n, actor, role, subject, day, hour, **fields):
    base = {
        "eventId": f"console-{n}",
        "source": {"system": "journal", "instance": "clinic-1"},
        "occurredAt": oslo(day, hour),
        "actor": {"id": actor, "displayName": "Kari Lie" if actor == "dr.lie" else "Ann Berg",
                  "role": role, "hprNumber": "1234567" if actor == "dr.lie" else ""},
        "subject": {"id": subject, "kind": "SUBJECT_KIND_PATIENT",
                    "displayName": {"01017012345": "Ola Pasient"}.get(subject, "")},
        "outcome": "OUTCOME_SUCCESS",
        "networkAddress": "10.20.0.5",
    }
    base.update(fields)
    return base


def clinic_events():
    wednesday = 9
    booking = event(1, "ann", "receptionist", "01017012345", wednesday - 7, 9,
                    action="ACTION_CODE_CREATE", actionSubtype="ACTION_SUBTYPE_CREATE",
                    dataObject={"type": "DATA_OBJECT_TYPE_APPOINTMENT", "id": "appt-1"},
                    purposeOfUse="PURPOSE_OF_USE_ADMINISTRATION",
                    attributes={"appointment.clinician": "dr.lie",
                                "appointment.start": oslo(wednesday, 10)})
    read = dict(action="ACTION_CODE_READ", actionSubtype="ACTION_SUBTYPE_VIEW",
                dataObject={"type": "DATA_OBJECT_TYPE_JOURNAL_NOTE"},
                purposeOfUse="PURPOSE_OF_USE_TREATMENT")
    expected = event(2, "dr.lie", "dentist", "01017012345", wednesday, 10, **read)
    injected = event(3, "dr.lie", "dentist", "01017012345", wednesday, 10, reason=INJECTED, **read)
    snooping = event(4, "dr.lie", "dentist", "02029054321", wednesday, 11, **read)
    return [booking, expected, injected, snooping]


class Browser:
    def __init__(self, screenshots, downloads):
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--ignore-certificate-errors", "--window-size=1280,900", "--lang=nb-NO"):
            options.add_argument(flag)
        options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                                  "download.prompt_for_download": False})
        service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": downloads})
        self.screenshots = screenshots

    def shot(self, name):
        # The whole page, not just the window.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(900, min(height + 40, 4000)))
        self.driver.save_screenshot(os.path.join(self.screenshots, f"{name}.png"))
        self.driver.set_window_size(1280, 900)

    def field(self, name):
        return self.driver.find_element(By.NAME, name)

    def fill(self, **values):
        for name, value in values.items():
            element = self.field(name)
            element.clear()
            element.send_keys(value)

    def submit(self, button):
        """Clicks a button that loads a new page, and waits for that page."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        button.click()

        def left(_):
            # Chromium reports a node of a page that is gone either as stale
            # or as "does not belong to the document".
            try:
                return expected_conditions.staleness_of(old)(None)
            except WebDriverException:
                return True
        WebDriverWait(self.driver, 60).until(left)
        WebDriverWait(self.driver, 60).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def sign_in(self, base, user, secret):
        self.driver.get(base + "/console/signin")
        code = totp(secret)
        self.fill(user=user, password=PASSWORD, code=code)
        self.submit(self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        return code


def raw(clinic, method, path, cookie=None, body=None, cookies=None):
    """A request outside the browser: (status, headers, text)."""
    connection = http.client.HTTPSConnection("127.0.0.1", clinic.console_port,
                                             context=ssl._create_unverified_context())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    cookies = dict(cookies or {})
    if cookie:
        cookies["innsyn_session"] = cookie
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    connection.request(method, path, urllib.parse.urlencode(body or {}), headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read().decode()


def sign_in_raw(clinic, user, code, with_token=True):
    """Posts the sign-in form outside the browser, with the form's token and
    cookie as a browser would send them (or without)."""
    _, headers, page = raw(clinic, "GET", "/console/signin")
    cookie = re.search(r"innsyn_signin=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = {"user": user, "password": PASSWORD, "code": code}
    if not with_token:
        return raw(clinic, "POST", "/console/signin", body=body)
    return raw(clinic, "POST", "/console/signin", body=dict(body, csrf=token),
               cookies={"innsyn_signin": cookie})


def alert_states(clinic):
    lines = clinic.ctl("alerts", "list", "--json").splitlines()
    alerts = [json.loads(line) for line in lines if line.strip()]
    return {a["alert"]["alert_id"]: a for a in alerts}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--innsynd", required=True)
    parser.add_argument("--innsynctl", required=True)
    parser.add_argument("--screenshots", required=True)
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    root = tempfile.mkdtemp(prefix="innsyn-console-")
    clinic = Clinic(args, root)
    browser = None
    try:
        clinic.append(clinic_events())
        deadline = time.monotonic() + 60
        while not any(a["alert"]["rule"] == "no_care_relationship"
                      for a in alert_states(clinic).values()):
            if time.monotonic() > deadline:
                raise RuntimeError("no alert was raised")
            time.sleep(0.5)

        # Signed out: pages send to the sign-in page, forms are refused.
        status, headers, _ = raw(clinic, "GET", "/console/person")
        check(status == 303 and headers.get("Location") == "/console/signin",
              "a signed-out page request is sent to the sign-in page")
        status, _, _ = raw(clinic, "POST", "/console/person", body={"id": "01017012345",
                                                                  "reason": "x"})
        check(status == 401, "a signed-out form post is refused with 401")
        status, headers, _ = raw(clinic, "GET", "/console/signin")
        csp = headers.get("Content-Security-Policy", "")
        check("default-src 'none'" in csp and "style-src 'self'" in csp and
              "script-src" not in csp, "pages carry a strict Content-Security-Policy")
        check(headers.get("X-Frame-Options") == "DENY", "pages may not be framed")

        browser = Browser(args.screenshots, os.path.join(root, "downloads"))
        driver = browser.driver

        # Portal and ingest accounts may not sign in.
        for role in ("portal", "ingest"):
            browser.sign_in(clinic.base, f"{role}-app", clinic.secrets[f"{role}-app"])
            check(driver.current_url.endswith("/console/signin") and
                  "kan ikke logge inn" in browser.text() and not driver.get_cookie("innsyn_session"),
                  f"a {role} account is refused at sign-in")

        # The privacy officer signs in.
        driver.get(clinic.base + "/console/signin")
        browser.shot("sign-in")
        kari_code = browser.sign_in(clinic.base, "kari", clinic.secrets["kari"])
        check(driver.current_url.endswith("/console/person"), "kari signs in to Find a person")
        cookie = driver.get_cookie("innsyn_session")
        check(cookie is not None and cookie["httpOnly"] and cookie["secure"] and
              cookie.get("sameSite") == "Strict",
              "the session cookie is Secure, HttpOnly and SameSite=Strict")

        # A replayed one-time code is refused, also with the right password
        # (still within the window a code is good for).
        status, _, text = sign_in_raw(clinic, "kari", kari_code)
        check(status == 401 and "brukt" in text, "a one-time code is taken only once")
        # A sign-in form from elsewhere (login CSRF) is refused.
        status, headers, text = sign_in_raw(clinic, "ole", totp(clinic.secrets["ole"]),
                                            with_token=False)
        check(status == 403 and "innsyn_session" not in headers.get("Set-Cookie", ""),
              "a sign-in post without the form's token is refused")

        # Find a person: the history, explained, with the injected text as text.
        browser.fill(id="01017012345", reason="Innsynsbegjæring fra pasienten, sak 2026-17")
        browser.submit(driver.find_element(By.CSS_SELECTOR, "form.lookup button"))
        text = browser.text()
        check("Ola Pasient" in text and "Kari Lie" in text, "the patient's history lists who")
        check("HPR 1234567" in text, "the history names the HPR number")
        check(INJECTED in text, "the script in an event's free text shows as text")
        check(driver.title != "owned" and not driver.find_elements(By.CSS_SELECTOR, "main script")
              and not driver.find_elements(By.CSS_SELECTOR, "main img"),
              "the injected script and image are not in the page")
        try:
            driver.switch_to.alert
            check(False, "no script ran")
        except NoAlertPresentException:
            check(True, "no script ran")
        check("Fullstendighet" in text, "the completeness status is shown")
        check(re.search(r"logget som oppføring \d+", text) is not None,
              "the look-up says where it was logged")
        browser.shot("find-a-person")

        # Keyboard and zoom: the first Tab reaches the skip link, and at 200%
        # zoom (a 640-pixel-wide window at twice the pixel ratio) the page
        # reflows: nothing but the table scrolls sideways.
        driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        check(driver.switch_to.active_element.get_attribute("class") == "skip",
              "the first Tab reaches the skip link")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 640, "height": 900, "deviceScaleFactor": 2,
                                "mobile": False})
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        check(overflow <= 0, f"at 200% zoom the page reflows (overflow {overflow} px)")
        driver.save_screenshot(os.path.join(args.screenshots, "find-a-person-200-percent.png"))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # The report, downloaded as a PDF.
        Select(browser.field("lang")).select_by_value("nb")
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/report'] button").click()
        downloads = os.path.join(root, "downloads")
        deadline = time.monotonic() + 60
        pdfs = []
        while time.monotonic() < deadline:
            pdfs = [f for f in os.listdir(downloads)] if os.path.isdir(downloads) else []
            if pdfs and all(f.endswith(".pdf") for f in pdfs):
                break
            time.sleep(0.5)
        check(len(pdfs) == 1 and "01017012345" not in pdfs[0], "the report downloads, named for no one")
        if pdfs:
            with open(os.path.join(downloads, pdfs[0]), "rb") as f:
                check(f.read(5) == b"%PDF-", "the download is a PDF")

        # Alerts: the reason is remembered; resolve the snooping as a violation.
        driver.get(clinic.base + "/console/alerts")
        text = browser.text()
        check("no_care_relationship" in text and "02029054321" in text,
              "the open alerts list the snooping, with its patient")
        snooping_id = next(i for i, a in alert_states(clinic).items()
                           if a["alert"]["rule"] == "no_care_relationship")
        browser.shot("alerts")
        # A forged form without the CSRF token changes nothing.
        session = driver.get_cookie("innsyn_session")["value"]
        status, _, text = raw(clinic, "POST", "/console/alerts/decide", cookie=session,
                              body={"alert_id": snooping_id, "state": "RESOLVED_FALSE_POSITIVE",
                                    "note": "forged"})
        check(status == 403 and "CSRF" in text, "a form post without the CSRF token is refused")
        check(alert_states(clinic)[snooping_id].get("state", "ALERT_STATE_OPEN") ==
              "ALERT_STATE_OPEN", "the forged post changed nothing")
        form = driver.find_element(By.XPATH,
                                   f"//form[input[@name='alert_id' and @value='{snooping_id}']]")
        Select(form.find_element(By.NAME, "state")).select_by_value("RESOLVED_VIOLATION")
        form.find_element(By.NAME, "note").send_keys("Bekreftet: ingen behandlingsrelasjon.")
        browser.submit(form.find_element(By.CSS_SELECTOR, "button"))
        text = browser.text()
        check("Frist for å melde bruddet" in text and "igjen" in text,
              "a confirmed violation shows the 72-hour deadline counting down")
        browser.shot("alert-violation")
        decided = alert_states(clinic)[snooping_id]
        check(decided.get("state") == "ALERT_STATE_RESOLVED_VIOLATION",
              "the ledger holds the violation")
        check(decided["decisions"][-1]["decision"]["decided_by"] == "console:kari",
              "the decision names the person signed in")

        # Staff activity, and the review mark.
        driver.get(clinic.base + "/console/staff")
        browser.fill(id="dr.lie")
        browser.submit(driver.find_element(By.CSS_SELECTOR, "form.lookup button"))
        check("02029054321" in browser.text(), "staff activity lists what dr.lie opened")
        browser.field("note").send_keys("Månedlig gjennomgang, november: avvik sendt til leder.")
        browser.submit(driver.find_element(By.CSS_SELECTOR, "form[action='/console/staff/reviewed'] button"))
        text = browser.text()
        reviewed = re.search(r"Gjennomgangen er logget som oppføring (\d+)", text)
        check(reviewed is not None, "the review mark is recorded")
        browser.shot("staff-activity")

        # Each look was recorded as a query naming kari and her reason.
        records = [json.loads(line)["entry"].get("query_record", {}) for line in
                   clinic.ctl("entries", "--count", "1000").splitlines() if line.strip()]
        lookups = [r for r in records if r.get("caller") == "console:kari" and
                   r.get("method") == "ListSubjectAccess" and r.get("subject_id") == "01017012345"]
        check(len(lookups) == 1 and "sak 2026-17" in lookups[0].get("reason", ""),
              "the ledger records kari's look-up as a query, with the reason she gave")
        check(any(r.get("method") == "CreateReport" and r.get("caller") == "console:kari"
                  for r in records), "the ledger records the report she made")
        check(any(r.get("method") == "ReviewActorActivity" and r.get("actor_id") == "dr.lie" and
                  "november" in r.get("reason", "") for r in records),
              "the ledger records the review of dr.lie's activity")

        # Health, and English.
        driver.get(clinic.base + "/console/health")
        text = browser.text()
        check("journal" in text and "Treets størrelse" in text, "the health page shows sources and the checkpoint")
        browser.shot("health")
        browser.submit(driver.find_element(By.CSS_SELECTOR, "a[hreflang='en']"))
        check("Health of the log" in browser.text(), "the console speaks English on request")
        browser.shot("health-en")

        # Signing out ends the session for good.
        browser.submit(driver.find_element(By.CSS_SELECTOR, "form.signout button"))
        status, headers, _ = raw(clinic, "GET", "/console/alerts", cookie=session)
        check(status == 303, "a signed-out session no longer opens pages")

        # The administrator sees health, not patients.
        browser.sign_in(clinic.base, "ole", clinic.secrets["ole"])
        check(driver.current_url.endswith("/console/health"), "admin signs in to the health page")
        admin_session = driver.get_cookie("innsyn_session")["value"]
        csrf = driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
        status, _, text = raw(clinic, "POST", "/console/person", cookie=admin_session,
                              body={"csrf": csrf, "id": "01017012345", "reason": "curious"})
        check(status == 403 and "Ola Pasient" not in text, "admin may not look up a patient")
    except Exception:
        if browser:
            with open(os.path.join(root, "last-page.html"), "w") as f:
                f.write(browser.driver.page_source)
            print(f"the last page is in {root}/last-page.html")
        raise
    finally:
        if browser:
            browser.driver.quit()
        clinic.stop()
    if failures:
        print(f"{len(failures)} checks failed; innsynd's log: {root}/innsynd.log")
        return 1
    shutil.rmtree(root, ignore_errors=True)
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
