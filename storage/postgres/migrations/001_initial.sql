-- Clients, grants and token hashes of the OAuth 2.0 provider.
-- Tables are prefixed oauth2_ so they can share a schema with the app's own.

create table oauth2_clients (
    id             text        primary key,
    secret_hash    text        not null default '',
    grant_types    text[]      not null default '{}',
    scopes         text[]      not null default '{}',
    default_scopes text[]      not null default '{}',
    redirect_uris  text[]      not null default '{}',
    public         boolean     not null default false,
    first_party    boolean     not null default false,
    disabled       boolean     not null default false,
    created_at     timestamptz not null
);

-- A grant is not tied to oauth2_clients by a foreign key: a deleted or
-- disabled client is refused by the provider, and its grants are ended with
-- RevokeClient.
create table oauth2_grants (
    id                    text        primary key,
    client_id             text        not null,
    user_id               text        not null default '',
    scopes                text[]      not null default '{}',
    binding               text        not null default '',
    created_at            timestamptz not null,
    expires_at            timestamptz not null,
    -- revoked_at is set when the grant is ended; the janitor deletes it.
    revoked_at            timestamptz,
    -- Authorization code binding; all null for other grants.
    code_redirect_uri     text,
    code_challenge        text,
    code_challenge_method text
);

create index oauth2_grants_user_id on oauth2_grants (user_id) where revoked_at is null;
create index oauth2_grants_client_id on oauth2_grants (client_id) where revoked_at is null;
create index oauth2_grants_expires_at on oauth2_grants (expires_at);
create index oauth2_grants_revoked on oauth2_grants (revoked_at) where revoked_at is not null;

-- Tokens are kept as the SHA-256 of the token string only.
create table oauth2_tokens (
    hash        bytea       primary key check (length(hash) = 32),
    grant_id    text        not null references oauth2_grants (id) on delete cascade,
    kind        smallint    not null,
    -- null means the grant's scopes.
    scopes      text[],
    issued_at   timestamptz not null,
    expires_at  timestamptz not null,
    -- consumed_at is set when a single-use token was exchanged; the row is
    -- kept until it expires so that a second use is caught as reuse.
    consumed_at timestamptz
);

create index oauth2_tokens_grant_id on oauth2_tokens (grant_id);
create index oauth2_tokens_expires_at on oauth2_tokens (expires_at);

---- create above / drop below ----

drop table oauth2_tokens;
drop table oauth2_grants;
drop table oauth2_clients;
