-- The count of writes to a client, which UpdateClient compares so that a
-- read-modify-write loses no concurrent update (storage.Client.Revision).
-- Clients stored before it existed start at 1, as if just created.
alter table oauth2_clients add column revision bigint not null default 1;

---- create above / drop below ----

alter table oauth2_clients drop column revision;
