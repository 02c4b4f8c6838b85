-- `tasks.answer_bytes` (migration 0008) recomputed only when a field it measures changes.
-- Forward-only: never edit this file once applied.
--
-- As a stored generated column it was recomputed by every update of a task, thirteen values
-- turned into JSON text, though a claim and a completion change only the status, the claim stamp
-- and the counters. Now it is a plain column that a BEFORE trigger computes on insert, and on an
-- update only when one of the measured fields changes (or a statement writes the column itself,
-- which the trigger overrides). The status is counted at its longest ("terminating", 13 bytes as
-- JSON), so a status change never needs it: at most 5 bytes more than the row answers, on a
-- bound with 2 KiB of margin (62 KiB in a 64 KB Data API row).

create function tasks_answer_bytes() returns trigger
language plpgsql as $$
begin
  new.answer_bytes :=
    coalesce(octet_length(to_json(new.action)::text), 4) + 13
    + coalesce(octet_length(to_json(new.design_ref)::text), 4)
    + coalesce(octet_length(to_json(new.node_filter::text)::text), 4)
    + coalesce(octet_length(to_json(new.result_status)::text), 4)
    + coalesce(octet_length(to_json(new.result_message)::text), 4)
    + coalesce(octet_length(to_json(new.result_reason)::text), 4)
    + coalesce(octet_length(to_json(new.result_successes::text)::text), 4)
    + coalesce(octet_length(to_json(new.result_failures::text)::text), 4)
    + coalesce(octet_length(to_json(new.result_links::text)::text), 4)
    + coalesce(octet_length(to_json(new.terminated_by)::text), 4)
    + coalesce(octet_length(to_json(new.created_by)::text), 4)
    + coalesce(octet_length(to_json(new.claimed_by)::text), 4)
    + 42 * new.subtask_count;
  return new;
end
$$;

alter table tasks alter column answer_bytes drop expression;
alter table tasks alter column answer_bytes set not null;

create trigger tasks_answer_bytes_insert before insert on tasks for each row
  execute function tasks_answer_bytes();
-- The executor evaluates the WHEN itself: an update that changes none of these calls nothing.
create trigger tasks_answer_bytes_update before update on tasks for each row
  when ((old.action, old.design_ref, old.node_filter, old.result_status, old.result_message,
         old.result_reason, old.result_successes, old.result_failures, old.result_links,
         old.terminated_by, old.created_by, old.claimed_by, old.subtask_count, old.answer_bytes)
    is distinct from
        (new.action, new.design_ref, new.node_filter, new.result_status, new.result_message,
         new.result_reason, new.result_successes, new.result_failures, new.result_links,
         new.terminated_by, new.created_by, new.claimed_by, new.subtask_count, new.answer_bytes))
  execute function tasks_answer_bytes();

-- Unfinished tasks may still move to the longest status: counted as above from now on. (A
-- finished task's status only ever moves to a shorter one: a retry's `running`.)
update tasks set answer_bytes = -1 where status not in ('complete', 'terminated');
