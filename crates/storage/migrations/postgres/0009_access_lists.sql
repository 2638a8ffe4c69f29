-- Access lists of the resource registry (docs/authorization.md#access-lists): an owner's
-- named lists of organisations, each list connected to resources with an optional filter
-- of actions. Timestamps are unix milliseconds; ids and party uuids are text.
CREATE TABLE access_lists (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- Raised by every change to the list, its members or its connections.
    version     BIGINT NOT NULL,
    UNIQUE (owner, identifier)
);

-- Members are organisations of the register.
CREATE TABLE access_list_members (
    list_id    TEXT NOT NULL REFERENCES access_lists (id) ON DELETE CASCADE,
    party_uuid TEXT NOT NULL REFERENCES parties (party_uuid),
    since      BIGINT NOT NULL,
    PRIMARY KEY (list_id, party_uuid)
);
-- The PDP asks "which lists is this party on".
CREATE INDEX access_list_members_by_party ON access_list_members (party_uuid);

-- A list connected to a resource. `actions` is a JSON array of action ids; an empty
-- array lets every action through. No reference to resources: a deleted resource keeps
-- its connections harmlessly (they name nothing the PDP asks about).
CREATE TABLE access_list_resources (
    list_id     TEXT NOT NULL REFERENCES access_lists (id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL,
    actions     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (list_id, resource_id)
);
-- The PDP asks "which lists are connected to this resource".
CREATE INDEX access_list_resources_by_resource ON access_list_resources (resource_id);
