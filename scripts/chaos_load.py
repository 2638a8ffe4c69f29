#!/usr/bin/env python3
"""Mixed write load for scripts/chaos.sh, and the check afterwards (stdlib only).

  chaos_load.py load  BASE_URL ACK_FILE SECONDS   # writes; every acknowledged write is logged
  chaos_load.py check DATABASE_URL ACK_FILE       # lost writes and invariant violations

The load runs while the server is killed (-9) and restarted under it: a request that got
no answer is simply not acknowledged. A write counts as acknowledged only when the server
answered it with success; it must then survive every later crash.
"""
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PACKAGE = "urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
VENDOR_SCOPES = ("altinn:authentication/systemregister.write "
                 "altinn:authentication/systemuser.request.write "
                 "altinn:authentication/systemuser.request.read")
PIA = "14857510098"   # may approve for Rør og Vann AS (party 70000003, org 315000009)
TINA = "21906810074"  # daglig leder of Tallmakerne AS (party 70000004, org 315100003)
WORKERS = 4


def call(method, url, token=None, body=None, timeout=10):
    """(status, parsed JSON or text); status 0 when the server did not answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as err:
        text, status = err.read().decode(errors="replace"), err.code
    except (OSError, urllib.error.URLError):
        return 0, None
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Load:
    def __init__(self, base, ack_path):
        self.base = base.rstrip("/")
        self.api = f"{self.base}/authentication/api/v1"
        self.ack = open(ack_path, "a", buffering=1)
        self.lock = threading.Lock()
        self.counts = {}
        self.run = str(int(time.time()))

    def note(self, what, *fields):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1
            if fields:
                self.ack.write(" ".join([what, *fields]) + "\n")

    def token(self, path, **query):
        status, body = call("GET", f"{self.base}/testtools/api/{path}?" + urllib.parse.urlencode(query))
        return body.strip() if status == 200 and isinstance(body, str) else None

    def wait_up(self):
        while call("GET", f"{self.base}/health/ready", timeout=2)[0] != 200:
            time.sleep(0.2)

    def setup(self):
        self.wait_up()
        vendor = self.token("GetEnterpriseToken", orgNo="991825827", scopes=VENDOR_SCOPES)
        self.standard = f"991825827_chaos{self.run}"
        self.agent_system = f"991825827_chaosagent{self.run}"
        common = {"vendor": {"authority": "iso6523-actorid-upis", "ID": "0192:991825827"},
                  "name": {"nb": "Chaos", "nn": "Chaos", "en": "Chaos"},
                  "description": {"nb": "c", "nn": "c", "en": "c"}, "clientId": []}
        rights = [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]
        for system, extra in [(self.standard, {"rights": rights, "isVisible": True}),
                              (self.agent_system, {"rights": [], "accessPackages": [{"urn": PACKAGE}],
                                                   "isVisible": False})]:
            status, body = call("POST", f"{self.api}/systemregister/vendor", vendor,
                                {"id": system, **common, **extra})
            if status not in (200, 201):
                sys.exit(f"cannot register {system}: {status} {body}")

    def iteration(self, worker, i, tokens):
        ref = f"chaos-{self.run}-{worker}-{i}"
        status, body = call("POST", f"{self.api}/systemuser/request/vendor", tokens["vendor"], {
            "systemId": self.standard, "partyOrgNo": "315000009", "externalRef": ref,
            "rights": [{"resource": [{"id": "urn:altinn:resource", "value": "ske-krav-og-betalinger"}]}]})
        self.outcome(status, "request")
        if status in (200, 201):
            request = body["id"]
            self.note("request", request)
            status, _ = call("POST", f"{self.api}/systemuser/request/70000003/{request}/approve", tokens["pia"])
            self.outcome(status, "approval")
            if status == 200:
                self.note("approved", request)
        status, body = call("POST", f"{self.api}/systemuser/request/vendor/agent", tokens["vendor"], {
            "systemId": self.agent_system, "partyOrgNo": "315100003", "externalRef": ref,
            "accessPackages": [{"urn": PACKAGE}]})
        self.outcome(status, "request")
        if status not in (200, 201):
            return
        agent = body["id"]
        self.note("request", agent)
        status, _ = call("POST", f"{self.api}/systemuser/request/agent/70000004/{agent}/approve", tokens["tina"])
        self.outcome(status, "approval")
        if status != 200:
            return
        self.note("approved", agent)
        client = tokens["client"]
        status, _ = call("POST", f"{self.api}/enduser/systemuser/clients?agent={agent}&client={client}",
                         tokens["tina_vendor"])
        self.outcome(status, "client_add")
        if status == 200:
            self.note("client", agent, client)

    def outcome(self, status, what):
        if status >= 500:
            self.note(f"{what}_5xx")
        elif status == 0:
            self.note(f"{what}_no_answer")
            time.sleep(0.05)  # the server is down: do not spin until it is back

    def tokens(self):
        self.wait_up()
        tokens = {
            "vendor": self.token("GetEnterpriseToken", orgNo="991825827", scopes=VENDOR_SCOPES),
            "pia": self.token("GetPersonalToken", pid=PIA, scopes="altinn:portal/enduser"),
            "tina": self.token("GetPersonalToken", pid=TINA, scopes="altinn:portal/enduser"),
            "tina_vendor": self.token("GetPersonalToken", pid=TINA, org="991825827",
                                      scopes="altinn:clientdelegations.read altinn:clientdelegations.write"),
        }
        return None if None in tokens.values() else tokens

    def worker(self, n, deadline, client):
        i = 0
        tokens = None
        while time.time() < deadline:
            if tokens is None:
                tokens = self.tokens()
                if tokens is None:
                    time.sleep(0.2)
                    continue
                tokens["client"] = client
            i += 1
            try:
                self.iteration(n, i, tokens)
            except (KeyError, TypeError):
                tokens = None  # an odd answer during a crash: fetch fresh tokens

    def client_id(self):
        """The client id of Rør og Vann AS, as the available-clients list of an agent gives it."""
        tokens = self.tokens()
        ref = f"chaos-{self.run}-probe"
        _, body = call("POST", f"{self.api}/systemuser/request/vendor/agent", tokens["vendor"], {
            "systemId": self.agent_system, "partyOrgNo": "315100003", "externalRef": ref,
            "accessPackages": [{"urn": PACKAGE}]})
        agent = body["id"]
        call("POST", f"{self.api}/systemuser/request/agent/70000004/{agent}/approve", tokens["tina"])
        _, body = call("GET", f"{self.api}/enduser/systemuser/clients/available?agent={agent}",
                       tokens["tina_vendor"])
        return next(c["clientId"] for c in body["data"] if c["clientOrganizationNumber"] == "315000009")


def load(base, ack_path, seconds):
    run = Load(base, ack_path)
    run.setup()
    client = run.client_id()
    deadline = time.time() + seconds
    threads = [threading.Thread(target=run.worker, args=(n, deadline, client)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(run.counts, sort_keys=True))


def query(database, sql):
    """Rows of `sql` as tuples of strings, on SQLite (a file) or PostgreSQL (psql)."""
    if database.startswith("sqlite:"):
        path = database.removeprefix("sqlite://").split("?")[0]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return [tuple("" if v is None else str(v) for v in row) for row in db.execute(sql)]
    out = subprocess.run(["psql", database, "-At", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines() if line]


INVARIANTS = {
    "two live system users with one key":
        "SELECT system_id, owner_org, external_ref FROM system_users WHERE NOT is_deleted "
        "GROUP BY system_id, owner_org, external_ref HAVING count(*) > 1",
    "two live requests with one key":
        "SELECT system_id, party_org, external_ref FROM systemuser_requests WHERE NOT is_deleted "
        "GROUP BY system_id, party_org, external_ref, user_type HAVING count(*) > 1",
    "a request approved twice":
        "SELECT request_id FROM system_users WHERE request_id IS NOT NULL "
        "GROUP BY request_id HAVING count(*) > 1",
    "an accepted request without its system user":
        "SELECT r.id FROM systemuser_requests r WHERE r.status = 'Accepted' AND NOT EXISTS "
        "(SELECT 1 FROM system_users u WHERE u.request_id = r.id)",
    "a system user whose request is not accepted":
        "SELECT u.id FROM system_users u JOIN systemuser_requests r ON r.id = u.request_id "
        "WHERE r.status <> 'Accepted'",
}


def check(database, ack_path):
    acked = [line.split() for line in open(ack_path) if line.strip()]
    requests = {row[0] for row in query(database, "SELECT id FROM systemuser_requests")}
    approved = {row[0] for row in query(database, "SELECT request_id FROM system_users WHERE request_id IS NOT NULL")}
    clients = {(a, c) for a, c in query(database, "SELECT system_user_id, client_party FROM client_delegations")}
    lost = []
    for fields in acked:
        kind = fields[0]
        present = {"request": lambda: fields[1] in requests,
                   "approved": lambda: fields[1] in approved,
                   "client": lambda: (fields[1], fields[2]) in clients}[kind]()
        if not present:
            lost.append(" ".join(fields))
    violations = {name: rows for name, sql in INVARIANTS.items() if (rows := query(database, sql))}
    added = {}
    for entity_id, after in query(database, "SELECT entity_id, after FROM history WHERE action = 'client_added'"):
        key = (entity_id, json.loads(after)["client"])
        added[key] = added.get(key, 0) + 1
    twice = [key for key, count in added.items() if count > 1]
    if twice:
        violations["a client_added history row twice"] = twice
    print(json.dumps({"acknowledged": len(acked), "lost": len(lost), "lost_writes": lost[:20],
                      "violations": len(violations), "violation_details": violations}, sort_keys=True))
    return 0 if not lost and not violations else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
