-- The instant recorded for the latest consumption of one of the grant's
-- single-use tokens (null: none since this column exists). Each
-- consumption records its instant in oauth2_tokens.consumed_at as the
-- store clock's now, or one microsecond past this when now is not after
-- it (an instance whose clock is behind the one that consumed the grant's
-- previous token), so that "consumed after", which ends a refresh
-- token's reuse grace, is the order in which the exchanges committed
-- whatever the instances' clocks say.
alter table oauth2_grants add column last_consumed_at timestamptz;

---- create above / drop below ----

alter table oauth2_grants drop column last_consumed_at;
