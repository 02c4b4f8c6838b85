-- One task row, and one message row, always fit what one Data API row carries (64 KB), and every
-- task knows how many bytes it adds to an answer, so the claim can take only what fits.
-- Forward-only: never edit this file once applied.
--
-- Before this migration each bound held alone (node filter 64 KiB, result lists 48 KiB, result
-- message and reason 64 Ki characters each, names 1 Ki characters), so a task could hold 300 KB
-- and more in its row, and its subtask id list (derived from `parent_task_id`) grew 40 bytes a
-- subtask without end: past about 1,600 subtasks, or with a few large fields, the task could no
-- longer be read through the Data API at all. Now:
--   - `subtask_count` counts the subtasks a task registered (the subtask insert already updates
--     the parent's row under its lock, so counting costs nothing more);
--   - `answer_bytes` is what the row adds to an answer: each text and JSON value that a task read
--     returns, as JSON text (escaped once, as the Data API and a Lambda answer carry it), plus 42
--     bytes a subtask id; ids, numbers and timestamps (about 200 bytes) are left out;
--   - `tasks_row_bound` keeps it at 62 KiB, so a row stays under 64 KB with that margin; a write
--     past it (a subtask too many, a roll-up, a long result message) is refused, nothing written.

-- `to_json` of a text is immutable in fact (text output does not depend on any setting); declared
-- so, it can compute a stored column.
create function json_text_bytes(value text) returns integer
language sql immutable parallel safe
return coalesce(octet_length(to_json(value)::text), 4);

alter table tasks add column subtask_count integer not null default 0 check (subtask_count >= 0);
update tasks p set subtask_count = c.n
from (select parent_task_id, count(*)::int as n from tasks where parent_task_id is not null group by 1) c
where c.parent_task_id = p.task_id;

alter table tasks add column answer_bytes integer generated always as (
  json_text_bytes(action) + json_text_bytes(status) + json_text_bytes(design_ref)
  + json_text_bytes(node_filter::text) + json_text_bytes(result_status)
  + json_text_bytes(result_message) + json_text_bytes(result_reason)
  + json_text_bytes(result_successes::text) + json_text_bytes(result_failures::text)
  + json_text_bytes(result_links::text) + json_text_bytes(terminated_by)
  + json_text_bytes(created_by) + json_text_bytes(claimed_by) + 42 * subtask_count
) stored;

alter table tasks add constraint tasks_row_bound check (answer_bytes <= 63488) not valid;

-- A message row read with a task (its text, context, context type and extra, plus its timestamp)
-- stays under 64 KB the same way: 62 KiB instead of 64 KiB.
alter table result_message drop constraint result_message_bound;
alter table result_message add constraint result_message_bound check (
  octet_length(message) + octet_length(context) + octet_length(context_type)
    + octet_length(extra::text) <= 63488) not valid;
