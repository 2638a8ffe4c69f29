-- Client delegations of agent system users (authorization.md §3). A row says: client
-- `client_party` lets the agent system user `system_user_id` of `facilitator` use
-- `package_code`, through one relation the client gave the facilitator: an ER role
-- (`via_role`: regnskapsforer, revisor, forretningsforer) or a business-to-business
-- package delegation (`via_package`). With neither, the facilitator gave its own package
-- to its own agent ("self"). The foreign keys carry the cascade: when the relation ends
-- (the ER role or the package delegation row is deleted), every delegation built on it
-- goes in the same statement, whoever deleted it and however.
CREATE TABLE client_delegations (
    system_user_id TEXT NOT NULL REFERENCES system_users (id),
    client_party   TEXT NOT NULL REFERENCES parties (party_uuid),
    facilitator    TEXT NOT NULL REFERENCES parties (party_uuid),
    package_code   TEXT NOT NULL,
    via_role       TEXT,
    via_package    TEXT,
    created_at     BIGINT NOT NULL,
    created_by     TEXT NOT NULL,
    -- Set just before an explicit removal, so the history names who removed it.
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

CREATE TRIGGER client_delegations_bump AFTER INSERT OR UPDATE OR DELETE ON client_delegations
    FOR EACH STATEMENT EXECUTE FUNCTION bump_authz_facts();

-- Every removal lands in the history, including the ones a cascade makes.
CREATE FUNCTION client_delegation_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history (at, actor, entity, entity_id, action, before, after)
    VALUES ((EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT,
            COALESCE(OLD.removed_by, 'platform (cascade)'),
            'system_user', OLD.system_user_id, 'client_removed',
            json_build_object(
                'client', OLD.client_party,
                'package', OLD.package_code,
                'viaRole', OLD.via_role,
                'viaPackage', OLD.via_package,
                'reason', CASE WHEN OLD.removed_by IS NULL
                               THEN 'the client relation ended' ELSE 'removed' END)::TEXT,
            NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER client_delegations_history AFTER DELETE ON client_delegations
    FOR EACH ROW EXECUTE FUNCTION client_delegation_removed();

-- Deleting an agent system user (a soft delete) removes all its client delegations.
CREATE FUNCTION system_user_release_clients() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM client_delegations WHERE system_user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER system_users_release_clients AFTER UPDATE OF is_deleted ON system_users
    FOR EACH ROW WHEN (NEW.is_deleted AND NOT OLD.is_deleted)
    EXECUTE FUNCTION system_user_release_clients();

-- Client lists show the client's name and organisation number and may be cached behind
-- the facts counter, so a change of either bumps it too.
DROP TRIGGER parties_bump ON parties;
CREATE TRIGGER parties_bump AFTER UPDATE OF unit_type, main_unit_uuid, name, org_number ON parties
    FOR EACH ROW WHEN (OLD.unit_type IS DISTINCT FROM NEW.unit_type
                       OR OLD.main_unit_uuid IS DISTINCT FROM NEW.main_unit_uuid
                       OR OLD.name IS DISTINCT FROM NEW.name
                       OR OLD.org_number IS DISTINCT FROM NEW.org_number)
    EXECUTE FUNCTION bump_authz_facts();
