-- The queue out of the wide task row, and a lighter lease fence.
-- Forward-only: never edit this file once applied.
--
-- Before this migration every claim and every completion rewrote the task row and inserted into
-- each of its indexes: `status` sat in the predicates of the queue, owner and retention indexes,
-- `updated` and `claimed_epoch` were index keys, so no update was HOT (heap-only). Now no index of
-- `tasks` mentions a column the lifecycle changes (status, claimed_epoch, updated, version,
-- result_*), so every status change is a HOT update on a page with room left for it (fillfactor),
-- and the two questions those indexes answered move to `task_queue`, a narrow table of the live
-- tasks that the triggers below keep in step with `tasks`:
--   - which queued task is next (the claim): rows with `queued`, in `seq` order;
--   - which unfinished tasks a lease epoch owns (recovery after a dead leader): rows with `epoch`.

create table task_queue (
  task_id uuid primary key,
  seq bigint not null,
  action text not null,
  -- The task is `queued`: the claim takes it.
  queued boolean not null,
  -- The lease epoch that owns the unfinished task (tasks.claimed_epoch), or null.
  epoch bigint
);
-- The claim walks this in FIFO order; claimed rows leave it.
create index task_queue_ready_idx on task_queue (seq) where queued;
-- Recovery: unfinished work by owner epoch.
create index task_queue_owned_idx on task_queue (epoch) where epoch is not null and not queued;

-- A row exists while the task is queued, or unfinished (requested, running, terminating) with an
-- owner; it goes when the task finishes, is deleted, or loses its owner. No foreign key: the rows
-- are written only here, under the task row's lock (the trigger fires on the locked, changed
-- row), so the pair never disagrees; and `truncate tasks` keeps working.
create function task_queue_sync() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    delete from task_queue where task_id = old.task_id;
  elsif new.status = 'queued'
     or (new.claimed_epoch is not null and new.status in ('requested', 'running', 'terminating')) then
    update task_queue set queued = new.status = 'queued', epoch = new.claimed_epoch
    where task_id = new.task_id;
    if not found then
      insert into task_queue (task_id, seq, action, queued, epoch)
      values (new.task_id, new.seq, new.action, new.status = 'queued', new.claimed_epoch);
    end if;
  elsif tg_op = 'UPDATE' then
    delete from task_queue where task_id = new.task_id;
  end if;
  return null;
end
$$;

create trigger tasks_queue_insert after insert on tasks for each row
  when (new.status = 'queued' or new.claimed_epoch is not null)
  execute function task_queue_sync();
create trigger tasks_queue_update after update of status, claimed_epoch on tasks for each row
  when (old.status is distinct from new.status or old.claimed_epoch is distinct from new.claimed_epoch)
  execute function task_queue_sync();
create trigger tasks_queue_delete after delete on tasks for each row
  when (old.status in ('queued', 'requested', 'running', 'terminating'))
  execute function task_queue_sync();

-- `truncate tasks` empties the queue too (a delete: `truncate tasks, task_queue` would refuse a
-- nested truncate of a table the statement is already truncating).
create function task_queue_truncate() returns trigger
language plpgsql as $$
begin
  delete from task_queue;
  return null;
end
$$;
create trigger tasks_queue_truncate after truncate on tasks for each statement
  execute function task_queue_truncate();

insert into task_queue (task_id, seq, action, queued, epoch)
select task_id, seq, action, status = 'queued', claimed_epoch from tasks
where status = 'queued'
   or (claimed_epoch is not null and status in ('requested', 'running', 'terminating'));

drop index tasks_queued_idx;
drop index tasks_owned_idx;
-- Retention finds old finished top-level tasks through their creation time, which never changes
-- (a task last changed before the cutoff was created before it); status and `updated` are
-- checked on the row.
drop index tasks_retention_idx;
create index tasks_retention_idx on tasks (created) where parent_task_id is null;

-- Room on each page for the new versions of its rows, so status changes stay on the page (HOT).
alter table tasks set (fillfactor = 70);

-- The lease fence. A fenced write used to share-lock the lease row (`for share`): correct, but
-- every write of every worker rewrote that one row's lock (a new MultiXact whenever two overlap),
-- serialising the hot path on it. Now a fenced write holds a shared advisory lock (key below) to
-- the end of its transaction and reads the lease after taking it, and whatever can end an epoch
-- (a claim that takes over, an abdication) takes the same lock exclusively first. So a takeover
-- waits for fenced writes already past their check, and a fenced write that checks after a
-- takeover committed sees the new epoch: every write of a deposed leader either committed before
-- its successor took over or is refused. The read happens inside this VOLATILE function, which
-- in READ COMMITTED takes a fresh snapshot for its own query, after the lock is held (the calling
-- statement's snapshot may predate the takeover).
create function lease_fence(fence_epoch bigint, fence_holder text default null) returns boolean
language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock_shared(7316470411598032465);
  return exists (
    select 1 from active_instance
    where lease_id = 1 and epoch = fence_epoch and expires_at > now()
      and (fence_holder is null or holder = fence_holder));
end
$$;

-- Taken by every lease change that can end an epoch, before it changes the row.
create function lease_exclusive() returns boolean
language plpgsql volatile as $$
begin
  perform pg_advisory_xact_lock(7316470411598032465);
  return true;
end
$$;
