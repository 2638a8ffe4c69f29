-- Client delegations of agent system users: see the PostgreSQL migration of the same
-- name for the model. The cascade comes from the foreign keys (PRAGMA foreign_keys is
-- switched on for every connection).
CREATE TABLE client_delegations (
    system_user_id TEXT NOT NULL REFERENCES system_users (id),
    client_party   TEXT NOT NULL REFERENCES parties (party_uuid),
    facilitator    TEXT NOT NULL REFERENCES parties (party_uuid),
    package_code   TEXT NOT NULL,
    via_role       TEXT,
    via_package    TEXT,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    removed_by     TEXT,
    PRIMARY KEY (system_user_id, client_party, package_code),
    CHECK (via_role IS NULL OR via_package IS NULL),
    CHECK ((via_role IS NULL AND via_package IS NULL) = (client_party = facilitator)),
    FOREIGN KEY (client_party, facilitator, via_role)
        REFERENCES er_roles (from_party, to_party, role_code) ON DELETE CASCADE,
    FOREIGN KEY (client_party, facilitator, via_package)
        REFERENCES package_delegations (from_party, to_party, package_code) ON DELETE CASCADE
);
CREATE INDEX client_delegations_by_client ON client_delegations (client_party, facilitator);

CREATE TRIGGER client_delegations_ins_bump AFTER INSERT ON client_delegations
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_delegations_upd_bump AFTER UPDATE ON client_delegations
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;

CREATE TRIGGER client_delegations_history AFTER DELETE ON client_delegations
BEGIN
    UPDATE authz_versions SET version = version + 1 WHERE id = 1;
    INSERT INTO history (at, actor, entity, entity_id, action, before, after)
    VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
            COALESCE(OLD.removed_by, 'platform (cascade)'),
            'system_user', OLD.system_user_id, 'client_removed',
            json_object(
                'client', OLD.client_party,
                'package', OLD.package_code,
                'viaRole', OLD.via_role,
                'viaPackage', OLD.via_package,
                'reason', CASE WHEN OLD.removed_by IS NULL
                               THEN 'the client relation ended' ELSE 'removed' END),
            NULL);
END;

CREATE TRIGGER system_users_release_clients AFTER UPDATE OF is_deleted ON system_users
WHEN NEW.is_deleted AND NOT OLD.is_deleted
BEGIN DELETE FROM client_delegations WHERE system_user_id = NEW.id; END;

-- Client lists show the client's name and organisation number and may be cached behind
-- the facts counter, so a change of either bumps it too.
DROP TRIGGER parties_upd_bump;
CREATE TRIGGER parties_upd_bump AFTER UPDATE OF unit_type, main_unit_uuid, name, org_number ON parties
WHEN OLD.unit_type IS NOT NEW.unit_type OR OLD.main_unit_uuid IS NOT NEW.main_unit_uuid
     OR OLD.name IS NOT NEW.name OR OLD.org_number IS NOT NEW.org_number
BEGIN UPDATE authz_versions SET version = version + 1 WHERE id = 1; END;
