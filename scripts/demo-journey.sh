#!/usr/bin/env bash
# The mission's first journey against a running demo server (systembruker serve --demo
# --admin-token "$ADMIN"), with curl and the systembruker CLI. Each step prints what it got.
#   ADMIN=secret scripts/demo-journey.sh [BASE_URL]
set -euo pipefail
B="${1:-http://127.0.0.1:8080}"
A="$B/authentication/api/v1"
ADMIN="${ADMIN:?set ADMIN to the --admin-token of the server}"
# May be several words, e.g. "cargo run -q -p systembruker --".
SB="${SYSTEMBRUKER:-systembruker}"
WORK="$(mktemp -d)"
SYSTEM="991825827_smartcloud$(date +%s)"
step() { printf '\n== %s\n' "$*"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

step "0. SmartCloud makes a key pair; the operator registers its Maskinporten client"
$SB keygen --kid "smartcloud-$$" --out "$WORK"
CLIENT=$($SB client create --url "$B" --admin-token "$ADMIN" --name SmartCloud \
    --consumer-org 991825827 --scope skatteetaten:kravogbetalinger \
    --jwk "$WORK/smartcloud-$$.jwk.json" | json "['client_id']")
echo "client_id $CLIENT"

step "1. SmartCloud registers its system"
V=$(curl -sf "$B/testtools/api/GetEnterpriseToken?orgNo=991825827&scopes=altinn:authentication/systemregister.write%20altinn:authentication/systemuser.request.write%20altinn:authentication/systemuser.request.read")
curl -sf -H "Authorization: Bearer $V" -H 'content-type: application/json' "$A/systemregister/vendor" -d "{
  \"id\": \"$SYSTEM\", \"vendor\": {\"authority\": \"iso6523-actorid-upis\", \"ID\": \"0192:991825827\"},
  \"name\": {\"nb\": \"SmartCloud\", \"nn\": \"SmartCloud\", \"en\": \"SmartCloud\"},
  \"description\": {\"nb\": \"Regnskap\", \"nn\": \"Rekneskap\", \"en\": \"Accounting\"},
  \"rights\": [{\"resource\": [{\"id\": \"urn:altinn:resource\", \"value\": \"ske-krav-og-betalinger\"}]}],
  \"clientId\": [\"$CLIENT\"], \"allowedRedirectUrls\": [\"https://smartcloud.example/receipt\"], \"isVisible\": true}"
echo

step "2. SmartCloud asks Rør og Vann AS for a system user"
REQ=$(curl -sf -H "Authorization: Bearer $V" -H 'content-type: application/json' "$A/systemuser/request/vendor" -d "{
  \"systemId\": \"$SYSTEM\", \"partyOrgNo\": \"315000009\",
  \"rights\": [{\"resource\": [{\"id\": \"urn:altinn:resource\", \"value\": \"ske-krav-og-betalinger\"}]}],
  \"redirectUrl\": \"https://smartcloud.example/receipt?order=17\"}" | tee "$WORK/request.json" | json "['id']")
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], d["confirmUrl"])' "$WORK/request.json"

step "3. Ola may not approve; he escalates"
OLA=$(curl -sf "$B/testtools/api/GetPersonalToken?pid=02889010080&scopes=altinn:portal/enduser")
curl -s -o /dev/null -w 'approve as Ola: %{http_code}\n' -XPOST -H "Authorization: Bearer $OLA" "$A/systemuser/request/70000003/$REQ/approve"
curl -sf -XPOST -H "Authorization: Bearer $OLA" "$A/systemuser/request/70000003/$REQ/escalate"; echo " (escalated)"

step "4. Pia sees it in pending and approves"
PIA=$(curl -sf "$B/testtools/api/GetPersonalToken?pid=14857510098&scopes=altinn:portal/enduser")
curl -sf -H "Authorization: Bearer $PIA" "$A/systemuser/request/70000003/315000009/pending" | json "[0]['id']"
curl -sf -XPOST -H "Authorization: Bearer $PIA" "$A/systemuser/request/70000003/$REQ/approve"; echo " (approved)"

step "5. SmartCloud's client gets a system-user token (JWT-bearer grant signed with its key)"
TOKEN=$($SB token --url "$B" --client-id "$CLIENT" --key "$WORK/smartcloud-$$.pem" \
    --scope skatteetaten:kravogbetalinger --systemuser-org 315000009)
echo "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null | json "['authorization_details'][0]['systemuser_id']" || true

step "6. Skatteetaten asks the PDP"
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

step "7. Pia deletes the system user"
curl -sf -XDELETE -H "Authorization: Bearer $PIA" "$A/systemuser/70000003/$REQ"; echo " (deleted)"
$SB token --url "$B" --client-id "$CLIENT" --key "$WORK/smartcloud-$$.pem" \
    --scope skatteetaten:kravogbetalinger --systemuser-org 315000009 2>&1 | head -1 || true
echo "Rør og Vann AS:   $(decide 315000009)"
rm -rf "$WORK"
