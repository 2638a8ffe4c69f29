-- Events for vendors and the history's hash chain (see crates/storage/src/events.rs).
--
-- The history is the outbox: its rows are written in the same transaction as the change
-- (some by triggers, e.g. client removals by the cascade). A sealer appends each row to
-- the hash chain after its commit, in the order it seals them, and in the same step
-- derives the vendors' events from it; the chain position is the events' sequence.

ALTER TABLE history ADD COLUMN chain_seq BIGINT;
ALTER TABLE history ADD COLUMN prev_hash TEXT;
ALTER TABLE history ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX history_by_chain ON history (chain_seq);
CREATE INDEX history_unsealed ON history (seq) WHERE hash IS NULL;

-- Sealing sets the chain columns of an unsealed row once; nothing else may change.
DROP TRIGGER history_no_update;
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL OR NEW.chain_seq IS NULL
     OR NEW.seq IS NOT OLD.seq OR NEW.at IS NOT OLD.at OR NEW.actor IS NOT OLD.actor
     OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
     OR NEW.action IS NOT OLD.action OR NEW.before IS NOT OLD.before OR NEW.after IS NOT OLD.after
BEGIN SELECT RAISE(ABORT, 'history is append-only: rows cannot be updated'); END;

-- The chain's head: the last sealed position and its hash. Sealers update this row first,
-- so they take turns (the write lock on SQLite, the row lock on PostgreSQL).
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
    is_deleted      INTEGER NOT NULL DEFAULT 0,
    -- The last event (sequence) handled; delivery goes on after it, in order.
    cursor          BIGINT NOT NULL,
    -- Failed attempts at the event after the cursor, and when to try it next.
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    -- The process delivering for the subscription, until when.
    lease_owner     TEXT,
    lease_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX event_subscriptions_by_system ON event_subscriptions (system_id);

CREATE TABLE event_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES event_subscriptions (id),
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    attempt         INTEGER NOT NULL,
    at              BIGINT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'abandoned')),
    status_code     INTEGER,
    error           TEXT,
    manual          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_deliveries_by_subscription ON event_deliveries (subscription_id, id);

-- Redeliveries a vendor asked for; the worker sends each once.
CREATE TABLE event_redeliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL REFERENCES event_subscriptions (id),
    event_seq       BIGINT NOT NULL,
    requested_at    BIGINT NOT NULL,
    done            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_redeliveries_pending ON event_redeliveries (subscription_id) WHERE done = 0;
