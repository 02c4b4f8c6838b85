-- Changes are announced through a transactional outbox: the statement that changes a task's
-- status or result (or takes the lease over, or ends a boot action) inserts its event row here in
-- the same statement, so an event exists exactly when its change committed. A publisher delivers
-- pending rows (EventBridge on AWS, an in-process bus locally) and marks them; a publisher that
-- dies between delivery and marking leaves its rows claimable again once its claim expires, so
-- delivery is at least once and consumers de-duplicate on (task_id, version) or event_id.
-- Forward-only: never edit this file once applied.

create table event_outbox (
  -- Commit order per task (a task's changes are serialised by its row lock), so a task's events
  -- come out in version order.
  event_id bigint generated always as identity primary key,
  detail_type text not null check (detail_type in (
    'Task Status Change', 'Lease Takeover', 'Boot Action Status')),
  -- No foreign key: an event outlives its task's retention until it is published.
  task_id uuid,
  parent_task_id uuid,
  action text,
  old_status text,
  new_status text,
  result_status text,
  epoch bigint,
  version integer,
  -- What a detail type adds to the common fields (the lease holder, a boot action's name).
  extra jsonb check (extra is null or jsonb_typeof(extra) = 'object'),
  created timestamptz not null default now(),
  -- A publisher's claim on the row; past it, another publisher may deliver the row again.
  claimed_until timestamptz,
  published_at timestamptz
);

-- What the publisher walks: only the pending rows, oldest first. Published rows leave it.
create index event_outbox_pending_idx on event_outbox (event_id) where published_at is null;
-- The schedule drops published rows by age, in bounded batches.
create index event_outbox_published_idx on event_outbox (published_at) where published_at is not null;

-- LISTEN/NOTIFY for local servers on a shared Postgres: a session that sets
-- `drydock.notify = on` (the local pg adapter does) wakes listeners on channel `drydock_events`
-- when its statement wrote events. Elsewhere (Lambdas, the Data API) the setting is unset and the
-- trigger returns at once: NOTIFY serialises committing transactions on a global lock, which the
-- hot path must not pay for nobody.
create function event_outbox_notify() returns trigger
language plpgsql as $$
begin
  if coalesce(current_setting('drydock.notify', true), '') = 'on' then
    perform pg_notify('drydock_events', '');
  end if;
  return null;
end
$$;

create trigger event_outbox_notify after insert on event_outbox
  for each statement execute function event_outbox_notify();
