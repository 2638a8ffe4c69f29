-- The Maskinporten configuration counter: bumped by triggers in the same transaction as
-- every change of clients, their keys, scopes and scope access lists. The token endpoint
-- keeps what it read of these in memory while the counter stands still, so a removed key
-- or a revoked scope stops working at the very next token request, in every process.
CREATE TABLE mp_config_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO mp_config_version (id, version) VALUES (1, 0);

CREATE FUNCTION bump_mp_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE mp_config_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER mp_clients_bump AFTER INSERT OR UPDATE OR DELETE ON mp_clients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_mp_config();
CREATE TRIGGER mp_client_keys_bump AFTER INSERT OR UPDATE OR DELETE ON mp_client_keys
    FOR EACH STATEMENT EXECUTE FUNCTION bump_mp_config();
CREATE TRIGGER mp_scopes_bump AFTER INSERT OR UPDATE OR DELETE ON mp_scopes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_mp_config();
CREATE TRIGGER mp_scope_access_bump AFTER INSERT OR UPDATE OR DELETE ON mp_scope_access
    FOR EACH STATEMENT EXECUTE FUNCTION bump_mp_config();
