-- On a SQLite file the assertion ids (jti) live in a log in arrival order instead of a
-- table keyed by (client_id, jti): a random key put every token's row on a random page,
-- so each token wrote a page of its own to the WAL (and its purge another). Appended rows
-- share the last page. "First use" is decided under the database's write lock against
-- the log, which every process reads to its end first (storage/src/ledger.rs).
-- mp_used_jti stays for stores without a file (in-memory SQLite).
CREATE TABLE mp_jti_log (
    seq        INTEGER PRIMARY KEY,
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
-- Purging deletes by expiry; expiries grow with arrival, so this index is appended to.
CREATE INDEX mp_jti_log_by_expiry ON mp_jti_log (expires_at);
INSERT INTO mp_jti_log (client_id, jti, expires_at)
    SELECT client_id, jti, expires_at FROM mp_used_jti ORDER BY expires_at;
DELETE FROM mp_used_jti;
