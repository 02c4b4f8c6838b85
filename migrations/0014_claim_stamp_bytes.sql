-- The claim stamp counted into `tasks.answer_bytes` without the trigger's call.
-- Forward-only: never edit this file once applied.
--
-- A claim writes `claimed_by`, one of the fields `answer_bytes` measures (migration 0013), so
-- every claimed task called the PL/pgSQL trigger, which measured all thirteen fields again and
-- formed the row anew. Now a statement that changes only the claim stamp among the measured fields
-- may write the new size itself, the old size less the old stamp plus the new one; the trigger's
-- WHEN checks that sum, so it is not called when it is right and recomputes everything when it is
-- wrong (a stamp changed without the size, a size written by hand) or when any other measured
-- field changed. The stored size is therefore always what the trigger would have computed.

drop trigger tasks_answer_bytes_update on tasks;
create trigger tasks_answer_bytes_update before update on tasks for each row
  when ((old.action, old.design_ref, old.node_filter, old.result_status, old.result_message,
         old.result_reason, old.result_successes, old.result_failures, old.result_links,
         old.terminated_by, old.created_by, old.subtask_count)
    is distinct from
        (new.action, new.design_ref, new.node_filter, new.result_status, new.result_message,
         new.result_reason, new.result_successes, new.result_failures, new.result_links,
         new.terminated_by, new.created_by, new.subtask_count)
    or new.answer_bytes is distinct from old.answer_bytes
      - coalesce(octet_length(to_json(old.claimed_by)::text), 4)
      + coalesce(octet_length(to_json(new.claimed_by)::text), 4))
  execute function tasks_answer_bytes();
