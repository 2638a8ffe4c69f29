-- The Maskinporten configuration counter: bumped by triggers in the same transaction as
-- every change of clients, their keys, scopes and scope access lists. The token endpoint
-- keeps what it read of these in memory while the counter stands still, so a removed key
-- or a revoked scope stops working at the very next token request, in every process.
CREATE TABLE mp_config_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO mp_config_version (id, version) VALUES (1, 0);

CREATE TRIGGER mp_clients_ins_bump AFTER INSERT ON mp_clients
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_clients_upd_bump AFTER UPDATE ON mp_clients
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_clients_del_bump AFTER DELETE ON mp_clients
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_client_keys_ins_bump AFTER INSERT ON mp_client_keys
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_client_keys_upd_bump AFTER UPDATE ON mp_client_keys
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_client_keys_del_bump AFTER DELETE ON mp_client_keys
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scopes_ins_bump AFTER INSERT ON mp_scopes
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scopes_upd_bump AFTER UPDATE ON mp_scopes
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scopes_del_bump AFTER DELETE ON mp_scopes
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scope_access_ins_bump AFTER INSERT ON mp_scope_access
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scope_access_upd_bump AFTER UPDATE ON mp_scope_access
BEGIN UPDATE mp_config_version SET version = version + 1; END;
CREATE TRIGGER mp_scope_access_del_bump AFTER DELETE ON mp_scope_access
BEGIN UPDATE mp_config_version SET version = version + 1; END;

-- Every token writes one row here. Clustered on its primary key (WITHOUT ROWID), an
-- insert touches two b-trees (rows, expiry index) instead of three.
CREATE TABLE mp_used_jti_clustered (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
) WITHOUT ROWID;
INSERT INTO mp_used_jti_clustered (client_id, jti, expires_at)
    SELECT client_id, jti, expires_at FROM mp_used_jti;
DROP TABLE mp_used_jti;
ALTER TABLE mp_used_jti_clustered RENAME TO mp_used_jti;
CREATE INDEX mp_used_jti_by_expiry ON mp_used_jti (expires_at);
