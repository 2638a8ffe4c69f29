-- System register, system-user requests, system users, change requests and the
-- append-only history (authentication.md §2–§7). Timestamps are unix milliseconds;
-- ids are uuids as text. Flags are INTEGER 0/1 here (the Any driver cannot read
-- SQLite's BOOLEAN type) and BOOLEAN on PostgreSQL. Rights and packages a system user holds live in the
-- delegation tables of 0003 (from the owner organisation to the system user's id).

CREATE TABLE systems (
    system_internal_id TEXT PRIMARY KEY,
    -- Unique including deleted systems: an id is never reused.
    system_id          TEXT NOT NULL UNIQUE,
    vendor_org         TEXT NOT NULL,
    body               TEXT NOT NULL,
    is_visible         INTEGER NOT NULL,
    is_deleted         INTEGER NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX systems_by_vendor ON systems (vendor_org);

-- A Maskinporten client id belongs to at most one live system: the primary key
-- enforces it, and a system's rows are removed when it is deleted.
CREATE TABLE system_clients (
    client_id          TEXT PRIMARY KEY,
    system_internal_id TEXT NOT NULL REFERENCES systems (system_internal_id),
    created_at         BIGINT NOT NULL
);
CREATE INDEX system_clients_by_system ON system_clients (system_internal_id);

CREATE TABLE system_change_log (
    id                 TEXT PRIMARY KEY,
    system_internal_id TEXT NOT NULL REFERENCES systems (system_internal_id),
    change_type        TEXT NOT NULL CHECK (change_type IN
                           ('create', 'update', 'rights_update', 'access_package_update', 'delete')),
    changed_by_org     TEXT,
    client_id          TEXT,
    changed_data       TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX system_change_log_by_system ON system_change_log (system_internal_id, created_at);

CREATE TABLE systemuser_requests (
    id                TEXT PRIMARY KEY,
    user_type         TEXT NOT NULL CHECK (user_type IN ('standard', 'agent')),
    system_id         TEXT NOT NULL REFERENCES systems (system_id),
    party_org         TEXT NOT NULL,
    external_ref      TEXT NOT NULL,
    integration_title TEXT NOT NULL,
    rights            TEXT NOT NULL,
    access_packages   TEXT NOT NULL,
    redirect_url      TEXT,
    status            TEXT NOT NULL CHECK (status IN ('New', 'Accepted', 'Rejected', 'Denied', 'Timedout')),
    escalated         INTEGER NOT NULL DEFAULT 0,
    is_deleted        INTEGER NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    changed_by        TEXT NOT NULL
);
-- One live request per key and type: concurrent re-posts find the same request.
CREATE UNIQUE INDEX systemuser_requests_live_key
    ON systemuser_requests (system_id, party_org, external_ref, user_type) WHERE NOT is_deleted;
CREATE INDEX systemuser_requests_by_party ON systemuser_requests (party_org, status);

CREATE TABLE system_users (
    id                TEXT PRIMARY KEY,
    system_id         TEXT NOT NULL REFERENCES systems (system_id),
    owner_org         TEXT NOT NULL,
    owner_party_uuid  TEXT NOT NULL REFERENCES parties (party_uuid),
    external_ref      TEXT NOT NULL,
    integration_title TEXT NOT NULL,
    user_type         TEXT NOT NULL CHECK (user_type IN ('standard', 'agent')),
    access_packages   TEXT NOT NULL,
    request_id        TEXT REFERENCES systemuser_requests (id),
    is_deleted        INTEGER NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    changed_by        TEXT NOT NULL
);
-- At most one live system user per (system, owner, external ref): the reference
-- checks this in code only, so concurrent approvals could create two.
CREATE UNIQUE INDEX system_users_live_key
    ON system_users (system_id, owner_org, external_ref) WHERE NOT is_deleted;
CREATE INDEX system_users_by_owner ON system_users (owner_org);

CREATE TABLE change_requests (
    id                 TEXT PRIMARY KEY,
    system_user_id     TEXT NOT NULL REFERENCES system_users (id),
    system_id          TEXT NOT NULL,
    party_org          TEXT NOT NULL,
    external_ref       TEXT NOT NULL,
    required_rights    TEXT NOT NULL,
    unwanted_rights    TEXT NOT NULL,
    required_packages  TEXT NOT NULL,
    unwanted_packages  TEXT NOT NULL,
    redirect_url       TEXT,
    status             TEXT NOT NULL CHECK (status IN ('New', 'Accepted', 'Rejected', 'Denied', 'Timedout')),
    is_deleted         INTEGER NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    changed_by         TEXT NOT NULL
);
CREATE INDEX change_requests_by_key ON change_requests (system_id, party_org, external_ref);

-- Every change to systems, requests, system users and their grants: who, when, what,
-- before and after (JSON). Append-only: the triggers refuse UPDATE and DELETE.
CREATE TABLE history (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    before    TEXT,
    after     TEXT
);
CREATE INDEX history_by_entity ON history (entity, entity_id);

CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only: rows cannot be updated'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only: rows cannot be deleted'); END;
