-- The portal's sessions, shared by every process on this database (storage/src/sessions.rs).
-- id_hash is the SHA-256 of the cookie's random id: the id itself is never stored.
-- Times are unix milliseconds.
CREATE TABLE portal_sessions (
    id_hash         TEXT PRIMARY KEY,
    data            TEXT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
-- The purge deletes by either deadline.
CREATE INDEX portal_sessions_by_idle_expiry ON portal_sessions (idle_expires_at);
CREATE INDEX portal_sessions_by_expiry ON portal_sessions (expires_at);

-- OpenID Connect logins in progress (state, nonce, PKCE verifier, where to go), one per
-- session, taken out (deleted) by the callback so each is used once.
CREATE TABLE portal_login_flows (
    session_hash TEXT PRIMARY KEY,
    data         TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX portal_login_flows_by_expiry ON portal_login_flows (expires_at);
