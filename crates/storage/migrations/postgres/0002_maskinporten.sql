-- Maskinporten-compatible token service: clients, their keys, scopes and access lists,
-- used assertion ids and the service's signing keys. Timestamps are unix milliseconds,
-- except mp_used_jti.expires_at (unix seconds, as the assertion's exp).
CREATE TABLE mp_clients (
    client_id             TEXT PRIMARY KEY,
    client_name           TEXT NOT NULL,
    description           TEXT,
    consumer_org          TEXT NOT NULL,
    scopes                TEXT NOT NULL,
    access_token_lifetime BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX mp_clients_by_consumer ON mp_clients (consumer_org);

-- kid is the primary key: unique across all clients.
CREATE TABLE mp_client_keys (
    kid        TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES mp_clients (client_id) ON DELETE CASCADE,
    jwk        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX mp_client_keys_by_client ON mp_client_keys (client_id);

CREATE TABLE mp_scopes (
    scope       TEXT PRIMARY KEY,
    owner_org   TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL
);

-- No foreign key: platform scopes are built in, not rows of mp_scopes, and have lists too.
CREATE TABLE mp_scope_access (
    scope        TEXT NOT NULL,
    consumer_org TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, consumer_org)
);

-- The primary key makes "first use wins" atomic across processes sharing the database.
CREATE TABLE mp_used_jti (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX mp_used_jti_by_expiry ON mp_used_jti (expires_at);

CREATE TABLE mp_signing_keys (
    kid          TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    public_jwk   TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    activated_at BIGINT NOT NULL
);
