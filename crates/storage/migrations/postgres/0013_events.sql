-- Events for vendors and the history's hash chain: see the SQLite migration of the same
-- name and crates/storage/src/events.rs.

ALTER TABLE history ADD COLUMN chain_seq BIGINT;
ALTER TABLE history ADD COLUMN prev_hash TEXT;
ALTER TABLE history ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX history_by_chain ON history (chain_seq);
CREATE INDEX history_unsealed ON history (seq) WHERE hash IS NULL;

-- Sealing sets the chain columns of an unsealed row once; nothing else may change.
CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.hash IS NULL AND NEW.hash IS NOT NULL
       AND NEW.chain_seq IS NOT NULL
       AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor = OLD.actor
       AND NEW.entity = OLD.entity AND NEW.entity_id = OLD.entity_id
       AND NEW.action = OLD.action AND NEW.before IS NOT DISTINCT FROM OLD.before
       AND NEW.after IS NOT DISTINCT FROM OLD.after THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'history is append-only: rows cannot be updated or deleted';
END;
$$ LANGUAGE plpgsql;

CREATE TABLE history_chain (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO history_chain (id, last_seq, last_hash) VALUES (1, 0, '');

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    system_id  TEXT NOT NULL,
    type       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    time       BIGINT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX events_by_system ON events (system_id, seq);

CREATE TABLE event_subscriptions (
    id              TEXT PRIMARY KEY,
    system_id       TEXT NOT NULL REFERENCES systems (system_id),
    callback_url    TEXT NOT NULL,
    event_types     TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    is_deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    cursor          BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX event_subscriptions_by_system ON event_subscriptions (system_id);

CREATE TABLE event_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES event_subscriptions (id),
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    attempt         INTEGER NOT NULL,
    at              BIGINT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'abandoned')),
    status_code     INTEGER,
    error           TEXT,
    manual          BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX event_deliveries_by_subscription ON event_deliveries (subscription_id, id);

CREATE TABLE event_redeliveries (
    id              BIGSERIAL PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES event_subscriptions (id),
    event_seq       BIGINT NOT NULL,
    requested_at    BIGINT NOT NULL,
    done            BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX event_redeliveries_pending ON event_redeliveries (subscription_id) WHERE NOT done;
