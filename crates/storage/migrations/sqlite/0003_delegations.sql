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
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
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
-- sees the change. Row 1: facts (roles, party forms and main units, delegations,
-- rights); row 2: policies.
CREATE TABLE authz_versions (
    id      BIGINT PRIMARY KEY CHECK (id IN (1, 2)),
    version BIGINT NOT NULL
);
INSERT INTO authz_versions (id, version) VALUES (1, 0), (2, 0);

CREATE TRIGGER er_roles_ins_bump AFTER INSERT ON er_roles
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER er_roles_del_bump AFTER DELETE ON er_roles
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER er_roles_upd_bump AFTER UPDATE ON er_roles
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER parties_upd_bump AFTER UPDATE OF unit_type, main_unit_uuid ON parties
WHEN OLD.unit_type IS NOT NEW.unit_type OR OLD.main_unit_uuid IS NOT NEW.main_unit_uuid
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER package_delegations_ins_bump AFTER INSERT ON package_delegations
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER package_delegations_del_bump AFTER DELETE ON package_delegations
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER package_delegations_upd_bump AFTER UPDATE ON package_delegations
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_rights_ins_bump AFTER INSERT ON resource_rights
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_rights_del_bump AFTER DELETE ON resource_rights
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_rights_upd_bump AFTER UPDATE ON resource_rights
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER resource_policies_ins_bump AFTER INSERT ON resource_policies
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 2; END;
CREATE TRIGGER resource_policies_del_bump AFTER DELETE ON resource_policies
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 2; END;
CREATE TRIGGER resource_policies_upd_bump AFTER UPDATE ON resource_policies
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 2; END;
-- Resource fields the PDP reads (delegable, type) live in the resource row.
CREATE TRIGGER resources_upd_bump AFTER UPDATE ON resources
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 2; END;
CREATE TRIGGER resources_del_bump AFTER DELETE ON resources
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 2; END;
