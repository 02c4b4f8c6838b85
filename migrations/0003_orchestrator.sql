-- Drydock's orchestrator lifecycle on the service: which lease epoch owns each task, and who
-- created it, so that recovery after a dead leader ends everything that epoch left unfinished.
-- Forward-only: never edit this file once applied.

-- The lease epoch of the orchestrator that created the task (a subtask, or a parentless internal
-- task such as Drydock's IdentifyNode check task); null for tasks callers queue through the API.
-- Recovery requeues a caller's task but terminates an orchestrator-made one: nobody else would
-- ever run it again.
alter table tasks add column created_epoch bigint check (created_epoch is null or created_epoch > 0);

-- claimed_epoch now names the epoch that owns a task's execution: the one that claimed it from
-- the queue, created it (subtasks inherit their parent's), or last moved it to running (a retry).
-- Recovery looks for unfinished tasks owned by an epoch that is no longer live, including
-- subtasks still `requested`, so the index covers that status too.
create index tasks_owned_idx on tasks (claimed_epoch)
  where status in ('requested', 'running', 'terminating') and claimed_epoch is not null;
drop index tasks_claimed_idx;
