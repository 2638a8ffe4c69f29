-- Maskinporten self-service (the set-up phase without an operator): an API owner's
-- settings of its scopes, and the scope prefixes the operator gives to organisations.
-- A scope under a prefix belongs to the prefix's owner: the triggers refuse any other
-- owner, whichever path (self-service, resource registry, operator API) registers it.
ALTER TABLE mp_scopes ADD COLUMN long_description TEXT;
-- JSON array of integration types that may use the scope (["maskinporten"]).
ALTER TABLE mp_scopes ADD COLUMN integration_types TEXT NOT NULL DEFAULT '["maskinporten"]';
-- Cap on the lifetime of tokens with the scope, in seconds; the lowest cap in a token wins.
ALTER TABLE mp_scopes ADD COLUMN at_max_age BIGINT CHECK (at_max_age IS NULL OR at_max_age > 0);
-- Every organisation may use the scope without being on its access list.
ALTER TABLE mp_scopes ADD COLUMN accessible_for_all INTEGER NOT NULL DEFAULT 0
    CHECK (accessible_for_all IN (0, 1));
-- Where consumers may delegate their access onward (a URL), if the owner allows it.
ALTER TABLE mp_scopes ADD COLUMN delegation_source TEXT;
ALTER TABLE mp_scopes ADD COLUMN updated_at BIGINT;
CREATE INDEX mp_scopes_by_owner ON mp_scopes (owner_org);
CREATE INDEX mp_scope_access_by_consumer ON mp_scope_access (consumer_org);

CREATE TABLE mp_scope_prefixes (
    prefix     TEXT PRIMARY KEY CHECK (length(prefix) > 0 AND instr(prefix, ':') = 0),
    owner_org  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mp_scope_prefixes_by_owner ON mp_scope_prefixes (owner_org);

CREATE TRIGGER mp_scopes_prefix_owner_ins BEFORE INSERT ON mp_scopes
WHEN EXISTS (SELECT 1 FROM mp_scope_prefixes p
             WHERE p.prefix = substr(NEW.scope, 1, instr(NEW.scope, ':') - 1)
               AND p.owner_org <> NEW.owner_org)
BEGIN SELECT RAISE(ABORT, 'the scope prefix belongs to another organisation'); END;
CREATE TRIGGER mp_scopes_prefix_owner_upd BEFORE UPDATE OF scope, owner_org ON mp_scopes
WHEN EXISTS (SELECT 1 FROM mp_scope_prefixes p
             WHERE p.prefix = substr(NEW.scope, 1, instr(NEW.scope, ':') - 1)
               AND p.owner_org <> NEW.owner_org)
BEGIN SELECT RAISE(ABORT, 'the scope prefix belongs to another organisation'); END;
-- A prefix can be given only to the organisation that owns every scope under it already.
CREATE TRIGGER mp_scope_prefixes_owner_ins BEFORE INSERT ON mp_scope_prefixes
WHEN EXISTS (SELECT 1 FROM mp_scopes s
             WHERE substr(s.scope, 1, instr(s.scope, ':') - 1) = NEW.prefix
               AND s.owner_org <> NEW.owner_org)
BEGIN SELECT RAISE(ABORT, 'scopes under the prefix belong to another organisation'); END;
CREATE TRIGGER mp_scope_prefixes_no_update BEFORE UPDATE ON mp_scope_prefixes
BEGIN SELECT RAISE(ABORT, 'a scope prefix cannot change owner; remove it and give it anew'); END;
