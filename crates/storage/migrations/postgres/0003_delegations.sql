-- Delegations (authorization.md §0–§4) and the authorization change counter.
-- `to_party` is a plain uuid, not a reference to parties: it may be a person, an
-- organisation or (later) a system user, which has no row in parties.

-- Business-to-business delegation: `from_party` (an organisation) gives `to_party` an
-- access package, as an assignment package on the `rettighetshaver` assignment.
CREATE TABLE package_delegations (
    from_party   TEXT NOT NULL REFERENCES parties (party_uuid),
    to_party     TEXT NOT NULL,
    package_code TEXT NOT NULL,
    can_delegate BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (from_party, to_party, package_code)
);
CREATE INDEX package_delegations_by_receiver ON package_delegations (to_party, from_party);

-- A right on one resource (resource id × action) given directly to a party.
CREATE TABLE resource_rights (
    from_party  TEXT NOT NULL REFERENCES parties (party_uuid),
    to_party    TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    action      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (from_party, to_party, resource_id, action)
);
CREATE INDEX resource_rights_by_receiver ON resource_rights (to_party, from_party);

-- Append-only history of delegation changes (who, when).
CREATE TABLE delegation_changes (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('package', 'right')),
    from_party TEXT NOT NULL,
    to_party   TEXT NOT NULL,
    subject    TEXT NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('added', 'removed')),
    changed_at BIGINT NOT NULL,
    changed_by TEXT NOT NULL
);

-- The change counters every decision reads (one primary-key row each) to know whether
-- its in-memory caches are still valid. Triggers bump them in the same transaction as
-- the change, so no write path can forget, and a reader that sees the new value also
-- sees the change (the row lock also orders concurrent writers). Row 1: facts (roles,
-- party forms and main units, delegations, rights); row 2: policies.
CREATE TABLE authz_versions (
    id      BIGINT PRIMARY KEY CHECK (id IN (1, 2)),
    version BIGINT NOT NULL
);
INSERT INTO authz_versions (id, version) VALUES (1, 0), (2, 0);

CREATE FUNCTION bump_authz_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE authz_versions SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$;
CREATE FUNCTION bump_authz_policies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE authz_versions SET version = version + 1 WHERE id = 2;
    RETURN NULL;
END $$;

CREATE TRIGGER er_roles_bump AFTER INSERT OR UPDATE OR DELETE ON er_roles
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_facts();
-- Row-level with a WHEN, so re-importing unchanged parties does not touch the counter.
CREATE TRIGGER parties_bump AFTER UPDATE OF unit_type, main_unit_uuid ON parties
    FOR EACH ROW WHEN (OLD.unit_type IS DISTINCT FROM NEW.unit_type
                       OR OLD.main_unit_uuid IS DISTINCT FROM NEW.main_unit_uuid)
    EXECUTE FUNCTION bump_authz_facts();
CREATE TRIGGER package_delegations_bump AFTER INSERT OR UPDATE OR DELETE ON package_delegations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_facts();
CREATE TRIGGER resource_rights_bump AFTER INSERT OR UPDATE OR DELETE ON resource_rights
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_facts();
CREATE TRIGGER resource_policies_bump AFTER INSERT OR UPDATE OR DELETE ON resource_policies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_policies();
-- Resource fields the PDP reads (delegable, type) live in the resource row.
CREATE TRIGGER resources_bump AFTER UPDATE OR DELETE ON resources
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_policies();
