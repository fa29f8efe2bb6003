-- The name the resource owner signed in with, for token introspection
-- (RFC 7662 "username"); empty when unknown.
alter table oauth2_grants add column username text not null default '';

---- create above / drop below ----

alter table oauth2_grants drop column username;
