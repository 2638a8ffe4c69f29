#!/usr/bin/env bash
# The mission's second journey against a running demo server (systembruker serve --demo
# --admin-token "$ADMIN"): the accounting firm Tallmakerne AS gets an agent system user
# from SmartCloud, adds a client, the agent acts for that client only, and the client is
# gone the moment the REGN role ends. Each step prints what it got.
#   ADMIN=secret scripts/demo-clients.sh [BASE_URL]
set -euo pipefail
B="${1:-http://127.0.0.1:8080}"
A="$B/authentication/api/v1"
ADMIN="${ADMIN:?set ADMIN to the --admin-token of the server}"
SB="${SYSTEMBRUKER:-systembruker}"
WORK="$(mktemp -d)"
SYSTEM="991825827_smartklient$(date +%s)"
PACKAGE="urn:altinn:accesspackage:regnskapsforer-med-signeringsrettighet"
step() { printf '\n== %s\n' "$*"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
role() { # add|remove the REGN role Rør og Vann AS gave Tallmakerne AS
  curl -sf -X "$1" -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    "$B/admin/api/v1/register/roles" -d '{"from":"315000009","to":"315100003","role":"REGN"}' >/dev/null
}

step "0. SmartCloud's Maskinporten client and its agent system (client-only package)"
$SB keygen --kid "smartklient-$$" --out "$WORK"
CLIENT=$($SB client create --url "$B" --admin-token "$ADMIN" --name SmartCloud \
    --consumer-org 991825827 --scope skatteetaten:kravogbetalinger \
    --jwk "$WORK/smartklient-$$.jwk.json" | json "['client_id']")
V=$(curl -sf "$B/testtools/api/GetEnterpriseToken?orgNo=991825827&scopes=altinn:authentication/systemregister.write%20altinn:authentication/systemuser.request.write%20altinn:authentication/systemuser.request.read")
curl -sf -H "Authorization: Bearer $V" -H 'content-type: application/json' "$A/systemregister/vendor" -d "{
  \"id\": \"$SYSTEM\", \"vendor\": {\"authority\": \"iso6523-actorid-upis\", \"ID\": \"0192:991825827\"},
  \"name\": {\"nb\": \"SmartRegnskap klient\", \"nn\": \"SmartRekneskap klient\", \"en\": \"SmartAccounting client\"},
  \"description\": {\"nb\": \"For regnskapsførere\", \"nn\": \"For rekneskapsførarar\", \"en\": \"For accountants\"},
  \"rights\": [], \"accessPackages\": [{\"urn\": \"$PACKAGE\"}],
  \"clientId\": [\"$CLIENT\"], \"isVisible\": false}"
echo

step "1. SmartCloud asks Tallmakerne AS for an agent system user"
REQ=$(curl -sf -H "Authorization: Bearer $V" -H 'content-type: application/json' "$A/systemuser/request/vendor/agent" -d "{
  \"systemId\": \"$SYSTEM\", \"partyOrgNo\": \"315100003\", \"accessPackages\": [{\"urn\": \"$PACKAGE\"}]}" \
  | tee "$WORK/request.json" | json "['id']")
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["confirmUrl"])' "$WORK/request.json"

step "2. Tina (daglig leder, so access manager) approves"
TINA=$(curl -sf "$B/testtools/api/GetPersonalToken?pid=21906810074&scopes=altinn:portal/enduser")
curl -sf -XPOST -H "Authorization: Bearer $TINA" "$A/systemuser/request/agent/70000004/$REQ/approve"; echo " (approved)"

step "3. Through SmartRegnskap, Tina lists the clients that provide the package and adds Rør og Vann AS"
TV=$(curl -sf "$B/testtools/api/GetPersonalToken?pid=21906810074&org=991825827&scopes=altinn:clientdelegations.read%20altinn:clientdelegations.write")
curl -sf -H "Authorization: Bearer $TV" "$A/enduser/systemuser/clients/available?agent=$REQ" | tee "$WORK/available.json" \
  | json "['data']" | tr '}' '\n' | grep -o "'clientOrganizationName': '[^']*'" || true
ROR=$(python3 -c 'import json,sys; print([c["clientId"] for c in json.load(open(sys.argv[1]))["data"] if c["clientOrganizationNumber"]=="315000009"][0])' "$WORK/available.json")
curl -sf -XPOST -H "Authorization: Bearer $TV" "$A/enduser/systemuser/clients?agent=$REQ&client=$ROR"; echo

step "4. The agent's token names the firm (systemuser_org 315100003), never the client"
TOKEN=$($SB token --url "$B" --client-id "$CLIENT" --key "$WORK/smartklient-$$.pem" \
    --scope skatteetaten:kravogbetalinger --systemuser-org 315100003)
echo "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | json "['authorization_details'][0]['systemuser_org']" || true

step "5. Skatteetaten asks the PDP about the agent acting for each client"
SKD=$(curl -sf "$B/testtools/api/GetEnterpriseToken?orgNo=974761076&scopes=altinn:authorization/authorize")
decide() {
  curl -sf -H "Authorization: Bearer $SKD" -H 'content-type: application/json' "$B/authorization/api/v1/authorize" -d "{\"Request\":{
    \"AccessSubject\":[{\"Attribute\":[{\"AttributeId\":\"urn:altinn:systemuser:uuid\",\"Value\":\"$REQ\"}]}],
    \"Action\":[{\"Attribute\":[{\"AttributeId\":\"urn:oasis:names:tc:xacml:1.0:action:action-id\",\"Value\":\"read\"}]}],
    \"Resource\":[{\"Attribute\":[{\"AttributeId\":\"urn:altinn:resource\",\"Value\":\"ske-krav-og-betalinger\"},
                                 {\"AttributeId\":\"urn:altinn:organization:identifier-no\",\"Value\":\"$1\"}]}]}}" | json "['Response'][0]['Decision']"
}
echo "Rør og Vann AS:   $(decide 315000009)"
echo "Bakeriet Brød AS: $(decide 315200008)"

step "6. The operator removes the REGN role: the client is gone at once"
role DELETE
echo "Rør og Vann AS:   $(decide 315000009)"
curl -sf -H "Authorization: Bearer $TV" "$A/enduser/systemuser/clients?agent=$REQ" | json "['data']"

step "7. Clean up: the role comes back (it carries no clients), Tina deletes the agent"
role POST
curl -sf -XDELETE -H "Authorization: Bearer $TINA" "$A/systemuser/agent/70000004/$REQ"; echo " (deleted)"
rm -rf "$WORK"
