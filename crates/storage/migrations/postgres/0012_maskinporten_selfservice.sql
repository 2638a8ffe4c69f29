-- Maskinporten self-service (the set-up phase without an operator): an API owner's
-- settings of its scopes, and the scope prefixes the operator gives to organisations.
-- A scope under a prefix belongs to the prefix's owner: the triggers refuse any other
-- owner, whichever path (self-service, resource registry, operator API) registers it.
ALTER TABLE mp_scopes
    ADD COLUMN long_description TEXT,
    -- JSON array of integration types that may use the scope (["maskinporten"]).
    ADD COLUMN integration_types TEXT NOT NULL DEFAULT '["maskinporten"]',
    -- Cap on the lifetime of tokens with the scope, in seconds; the lowest cap wins.
    ADD COLUMN at_max_age BIGINT CHECK (at_max_age IS NULL OR at_max_age > 0),
    -- Every organisation may use the scope without being on its access list.
    ADD COLUMN accessible_for_all BOOLEAN NOT NULL DEFAULT FALSE,
    -- Where consumers may delegate their access onward (a URL), if the owner allows it.
    ADD COLUMN delegation_source TEXT,
    ADD COLUMN updated_at BIGINT;
CREATE INDEX mp_scopes_by_owner ON mp_scopes (owner_org);
CREATE INDEX mp_scope_access_by_consumer ON mp_scope_access (consumer_org);

CREATE TABLE mp_scope_prefixes (
    prefix     TEXT PRIMARY KEY CHECK (length(prefix) > 0 AND strpos(prefix, ':') = 0),
    owner_org  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX mp_scope_prefixes_by_owner ON mp_scope_prefixes (owner_org);

CREATE FUNCTION mp_scope_prefix_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM mp_scope_prefixes p
               WHERE p.prefix = split_part(NEW.scope, ':', 1) AND p.owner_org <> NEW.owner_org) THEN
        RAISE EXCEPTION 'the scope prefix belongs to another organisation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER mp_scopes_prefix_owner BEFORE INSERT OR UPDATE OF scope, owner_org ON mp_scopes
    FOR EACH ROW EXECUTE FUNCTION mp_scope_prefix_owner();

-- A prefix can be given only to the organisation that owns every scope under it already.
CREATE FUNCTION mp_scope_prefix_given() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'a scope prefix cannot change owner; remove it and give it anew';
    END IF;
    IF EXISTS (SELECT 1 FROM mp_scopes s
               WHERE split_part(s.scope, ':', 1) = NEW.prefix AND s.owner_org <> NEW.owner_org) THEN
        RAISE EXCEPTION 'scopes under the prefix belong to another organisation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER mp_scope_prefixes_owner BEFORE INSERT OR UPDATE ON mp_scope_prefixes
    FOR EACH ROW EXECUTE FUNCTION mp_scope_prefix_given();
