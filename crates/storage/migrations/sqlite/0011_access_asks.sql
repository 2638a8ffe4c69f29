-- "Ask for access" (docs/rules.md#asking-for-access): a person asks a party's access
-- managers for access packages and single rights of resources. One row per thing asked;
-- the things sent together share `ask_id` and are answered together. Timestamps are unix
-- milliseconds; ids and party uuids are text.
CREATE TABLE access_asks (
    ask_id      TEXT NOT NULL,
    person      TEXT NOT NULL REFERENCES parties (party_uuid),
    party       TEXT NOT NULL REFERENCES parties (party_uuid),
    -- `package`: subject is a package code; `right`: `resource_id:action`.
    kind        TEXT NOT NULL CHECK (kind IN ('package', 'right')),
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'declined')),
    created_at  BIGINT NOT NULL,
    answered_by TEXT,
    answered_at BIGINT,
    PRIMARY KEY (ask_id, kind, subject),
    -- An answered ask says who answered and when; a pending one does not.
    CHECK ((status = 'pending') = (answered_by IS NULL AND answered_at IS NULL))
);
-- One pending ask per person, party and thing: asking twice is refused by the database.
CREATE UNIQUE INDEX access_asks_one_pending
    ON access_asks (person, party, kind, subject) WHERE status = 'pending';
CREATE INDEX access_asks_by_party ON access_asks (party, status);
