-- The four tables of Drydock's statemgmt, rebuilt: uuid ids, timestamptz, jsonb, no tiny varchar
-- limits, foreign keys, status checks, and the indexes the store's statements use.
-- Forward-only: never edit this file once applied; add 0002_... instead.

create table tasks (
  task_id uuid primary key default gen_random_uuid(),
  -- Insertion order: FIFO for the claim and the stable cursor for listing.
  seq bigint generated always as identity,
  parent_task_id uuid references tasks (task_id) on delete cascade,
  action text not null check (action in (
    'noop', 'validate_design', 'verify_site', 'prepare_site', 'verify_nodes', 'prepare_nodes',
    'deploy_nodes', 'destroy_nodes', 'bootaction_report', 'relabel_nodes',
    'validate_oob_services', 'config_node_pxe', 'set_node_boot', 'power_off_node', 'power_on_node',
    'power_cycle_node', 'interrogate_oob',
    'validate_node_services', 'create_network_template', 'create_storage_template',
    'create_boot_media', 'configure_user_credentials', 'configure_node_provisioner',
    'prepare_hardware_config', 'identify_node', 'configure_hardware', 'interrogate_node',
    'apply_node_networking', 'apply_node_storage', 'apply_node_platform', 'deploy_node',
    'destroy_node',
    'validate_network_services', 'interrogate_port', 'config_port_provisioning',
    'config_port_production',
    'relabel_node')),
  status text not null default 'requested' check (status in (
    'requested', 'queued', 'running', 'terminating', 'terminated', 'complete')),
  design_ref text,
  node_filter jsonb check (node_filter is null or jsonb_typeof(node_filter) = 'object'),
  result_status text not null default 'incomplete' check (result_status in (
    'incomplete', 'success', 'partial_success', 'failure', 'unreported')),
  result_message text,
  result_reason text,
  -- Entity (node) names, de-duplicated, as JSON arrays of strings.
  result_successes jsonb not null default '[]' check (jsonb_typeof(result_successes) = 'array'),
  result_failures jsonb not null default '[]' check (jsonb_typeof(result_failures) = 'array'),
  -- [{rel, href}] in the order they were added.
  result_links jsonb not null default '[]' check (jsonb_typeof(result_links) = 'array'),
  -- Kept by the message append statement, so reads never count messages.
  error_count integer not null default 0 check (error_count >= 0),
  -- The last result_message.sequence handed out for this task (0 = none yet).
  message_seq bigint not null default 0 check (message_seq >= 0),
  retry integer not null default 0 check (retry >= 0),
  terminate boolean not null default false,
  terminated timestamptz,
  terminated_by text,
  created timestamptz not null default now(),
  created_by text,
  updated timestamptz not null default now(),
  -- Who asked (principal, request id); never exposed by the API, never holds credentials.
  request_context jsonb,
  -- Idempotency key of the create request (SQS message id or the caller's own key).
  request_key text unique,
  -- Optimistic concurrency: bumped by every change, compared by conditional updates (If-Match).
  version integer not null default 1,
  -- Fencing: the lease epoch under which the running task was claimed.
  claimed_epoch bigint,
  claimed_by text,
  claimed_at timestamptz,
  constraint tasks_seq_key unique (seq),
  constraint tasks_not_own_parent check (parent_task_id is distinct from task_id)
);

-- The claim walks this small index in FIFO order; finished tasks never enter it.
create index tasks_queued_idx on tasks (seq) include (action) where status = 'queued';
-- Subtasks of a parent in registration order (subtask_id_list, tree walks, roll-ups).
create index tasks_parent_idx on tasks (parent_task_id, seq) where parent_task_id is not null;
-- Retention: finished top-level tasks by age.
create index tasks_retention_idx on tasks (updated)
  where parent_task_id is null and status in ('complete', 'terminated');
-- Requeue of work stranded by a dead lease epoch.
create index tasks_claimed_idx on tasks (claimed_epoch)
  where status in ('running', 'terminating') and claimed_epoch is not null;

create table result_message (
  task_id uuid not null references tasks (task_id) on delete cascade,
  -- Per task, contiguous from 1, handed out under the task row's lock.
  sequence bigint not null check (sequence > 0),
  message text not null,
  error boolean not null default false,
  context_type text not null,
  context text not null,
  ts timestamptz not null default now(),
  extra jsonb not null default '{}' check (jsonb_typeof(extra) = 'object'),
  idempotency_key text,
  primary key (task_id, sequence)
);

-- A replayed append (same task and key) inserts nothing.
create unique index result_message_idempotency_idx on result_message (task_id, idempotency_key)
  where idempotency_key is not null;

create table build_data (
  build_data_id bigint generated always as identity primary key,
  node_name text not null check (node_name <> ''),
  -- No foreign key on purpose: build history outlives task retention.
  task_id uuid not null,
  collected_date timestamptz not null default now(),
  generator text not null check (generator <> ''),
  data_format text not null check (data_format <> ''),
  data_element text not null,
  idempotency_key text unique
);

-- Latest per generator for a node is a loose index scan over this index, index-only for the
-- metadata columns.
create index build_data_node_generator_idx
  on build_data (node_name, generator, collected_date desc, build_data_id desc)
  include (task_id, data_format);
create index build_data_node_date_idx on build_data (node_name, collected_date desc, build_data_id desc);
create index build_data_task_idx on build_data (task_id, collected_date desc, build_data_id desc);

-- A single-row lease: of several orchestrator instances exactly one holds it. Decided on the
-- database clock; `epoch` grows by one on every takeover and fences writes of earlier holders.
create table active_instance (
  lease_id smallint primary key default 1 check (lease_id = 1),
  holder text not null check (holder <> ''),
  epoch bigint not null check (epoch > 0),
  acquired_at timestamptz not null,
  renewed_at timestamptz not null,
  expires_at timestamptz not null
);

-- SQS task events already applied, so a redelivery writes nothing twice.
create table applied_event (
  event_key text primary key,
  applied_at timestamptz not null default now()
);
create index applied_event_age_idx on applied_event (applied_at);

-- Periodic maintenance claimed by moving a timestamp: of duplicate schedule deliveries only the
-- one that moved it does the work.
create table maintenance_claim (
  job text primary key,
  last_run_at timestamptz not null
);

-- Appends the elements of `extra` not already in `base`, keeping first-seen order: the result's
-- successes and failures are sets that Drydock shows in the order entities were reported.
create function jsonb_append_distinct(base jsonb, extra jsonb) returns jsonb
language sql immutable parallel safe as $$
  select coalesce(jsonb_agg(v order by first_pos), '[]'::jsonb)
  from (
    select v, min(pos) as first_pos
    from (
      select a.v, a.pos from jsonb_array_elements(coalesce(base, '[]'::jsonb)) with ordinality as a(v, pos)
      union all
      select b.v, b.pos + 1000000000 from jsonb_array_elements(coalesce(extra, '[]'::jsonb)) with ordinality as b(v, pos)
    ) u
    group by v
  ) d
$$;
