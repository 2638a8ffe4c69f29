-- Register: parties and ER roles; resource registry. Timestamps are unix milliseconds.
CREATE TABLE parties (
    party_uuid     TEXT PRIMARY KEY,
    party_id       BIGINT NOT NULL UNIQUE,
    party_type     TEXT NOT NULL CHECK (party_type IN ('organization', 'person')),
    name           TEXT NOT NULL,
    org_number     TEXT UNIQUE,
    person_number  TEXT UNIQUE,
    unit_type      TEXT,
    unit_status    TEXT,
    main_unit_uuid TEXT REFERENCES parties (party_uuid),
    created_at     BIGINT NOT NULL,
    CHECK ((party_type = 'organization' AND org_number IS NOT NULL AND person_number IS NULL)
        OR (party_type = 'person' AND person_number IS NOT NULL AND org_number IS NULL))
);

CREATE TABLE er_roles (
    from_party TEXT NOT NULL REFERENCES parties (party_uuid),
    to_party   TEXT NOT NULL REFERENCES parties (party_uuid),
    role_code  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (from_party, to_party, role_code)
);
CREATE INDEX er_roles_by_holder ON er_roles (to_party);

-- Append-only feed of ER role changes; later work reacts to removals.
CREATE TABLE role_changes (
    seq        BIGSERIAL PRIMARY KEY,
    from_party TEXT NOT NULL,
    to_party   TEXT NOT NULL,
    role_code  TEXT NOT NULL,
    change     TEXT NOT NULL CHECK (change IN ('added', 'removed')),
    changed_at BIGINT NOT NULL,
    changed_by TEXT
);

CREATE TABLE resources (
    identifier         TEXT PRIMARY KEY,
    owner_org          TEXT NOT NULL,
    resource_type      TEXT NOT NULL,
    delegable          BOOLEAN NOT NULL,
    maskinporten_scope TEXT,
    body               TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX resources_by_owner ON resources (owner_org);

CREATE TABLE resource_policies (
    resource_id TEXT PRIMARY KEY REFERENCES resources (identifier) ON DELETE CASCADE,
    policy_xml  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL
);
