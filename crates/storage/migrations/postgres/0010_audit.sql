-- The audit of what system users and persons did (README, "Audit"): every token issued
-- for a system user and every decision the PDP API answered, one row each. Rows are
-- only ever appended (the trigger refuses UPDATE); the retention purge is the one
-- DELETE. Timestamps are unix milliseconds; uuids are text.
CREATE TABLE audit_records (
    seq            BIGSERIAL PRIMARY KEY,
    at             BIGINT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('token', 'decision')),
    -- The system user the record is about (a token's, or a decision's subject).
    system_user_id TEXT,
    -- The subject as the request named it: `systemuser:<uuid>`, `party:<uuid>`, …
    subject        TEXT NOT NULL,
    -- The party acted for: the system user's owner for a token, the resource party
    -- of a decision.
    party_uuid     TEXT,
    resource       TEXT,
    action         TEXT,
    decision       TEXT CHECK (decision IN ('Permit', 'Deny', 'NotApplicable', 'Indeterminate')),
    -- The policy, delegation or access list that decided.
    decided_by     TEXT,
    -- Who asked: the PDP caller's organisation or client; the token's client.
    caller         TEXT NOT NULL,
    client_id      TEXT,
    system_id      TEXT,
    scopes         TEXT,
    jti            TEXT,
    -- A token record names its token; a decision record its decision.
    CHECK ((kind = 'token' AND jti IS NOT NULL AND decision IS NULL)
        OR (kind = 'decision' AND decision IS NOT NULL AND jti IS NULL))
);
CREATE INDEX audit_records_by_system_user ON audit_records (system_user_id, seq);
CREATE INDEX audit_records_by_party ON audit_records (party_uuid, seq);
CREATE INDEX audit_records_by_time ON audit_records (at);

CREATE FUNCTION audit_records_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit is append-only: records cannot be updated';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
