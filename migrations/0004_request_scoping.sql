-- Idempotency keys are scoped, and each remembers the request it came with.
--
-- A task's create key belongs to its parent (top-level tasks share one scope): the same key on
-- POST /tasks and on a subtask registration names two different requests, not one. A build-data
-- key belongs to its node. Messages were already keyed per task. A replay must repeat the
-- request: `request_hash` (tasks, applied events) is a fingerprint of the request body, compared
-- on replay; build data and messages are compared column by column. Rows written before this
-- migration have no fingerprint and replay as before.

alter table tasks add column request_hash text;
alter table tasks drop constraint tasks_request_key_key;
create unique index tasks_request_key_idx on tasks (request_key, parent_task_id) nulls not distinct
  where request_key is not null;

alter table build_data drop constraint build_data_idempotency_key_key;
create unique index build_data_idempotency_idx on build_data (node_name, idempotency_key)
  where idempotency_key is not null;

alter table applied_event add column request_hash text;

-- Bounds, so no task grows past what one answer can carry (Lambda answers stop at 6 MB, a Data
-- API result at 1 MiB and a row at 64 KB). The API refuses a request that alone exceeds them
-- (413); these constraints refuse what accumulates: successes, failures and links added over
-- many updates or rolled up from subtasks (409). NOT VALID: enforced on every new write, while
-- rows written before this migration are left as they are.
alter table tasks add constraint tasks_result_lists_bound check (
  octet_length(result_successes::text) + octet_length(result_failures::text)
    + octet_length(result_links::text) <= 49152) not valid;
alter table tasks add constraint tasks_node_filter_bound check (
  node_filter is null or octet_length(node_filter::text) <= 65536) not valid;
alter table result_message add constraint result_message_bound check (
  octet_length(message) + octet_length(context) + octet_length(context_type)
    + octet_length(extra::text) <= 65536) not valid;
