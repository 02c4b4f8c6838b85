-- The fixed costs of every fenced, event-writing statement, made lighter.
-- Forward-only: never edit this file once applied.

-- The outbox's NOTIFY trigger ran a PL/pgSQL call on every event-writing statement only to find
-- `drydock.notify` unset (Lambdas, the Data API). The check moves into the trigger's WHEN, which
-- the executor evaluates itself: where the setting is off nothing is called at all.
drop trigger event_outbox_notify on event_outbox;
create trigger event_outbox_notify after insert on event_outbox for each statement
  when (coalesce(current_setting('drydock.notify', true), '') = 'on')
  execute function event_outbox_notify();

-- The same fence as migration 0005 (a shared advisory lock held to the end of the transaction,
-- then the lease read with a snapshot taken after the lock), with the lock taken in a condition:
-- PL/pgSQL evaluates that as a simple expression, where PERFORM started a whole query.
create or replace function lease_fence(fence_epoch bigint, fence_holder text default null) returns boolean
language plpgsql volatile as $$
begin
  -- The lock returns void, which is never null: the branch is only there to evaluate it.
  if pg_advisory_xact_lock_shared(7316470411598032465) is null then
    return false;
  end if;
  return exists (
    select 1 from active_instance
    where lease_id = 1 and epoch = fence_epoch and expires_at > now()
      and (fence_holder is null or holder = fence_holder));
end
$$;
