-- Drydock's boot-action state (`statemgmt/db/tables.py` BootAction and BootActionStatus), which
-- its readme leaves out: one context per node being deployed, one status row per boot action that
-- targets the node. The deploy flow cannot finish without them: the installed node downloads its
-- units and files with its key and reports each action's outcome, and the `bootaction_report`
-- task polls the statuses until they are final.
-- Forward-only: never edit this file once applied. It depends on 0001 only, so it applies the
-- same whether a database already has 0003/0004 (written before it) or not.

-- One context per node: the latest deployment wins (Drydock's upsert). The node's key is never
-- stored: only its SHA-256, so a leaked table yields no usable key (the key is 32 random bytes,
-- so a fast hash loses nothing to guessing). Deleting the deploy task ends the context.
create table boot_action (
  node_name text primary key check (node_name <> '' and octet_length(node_name) <= 280),
  task_id uuid not null references tasks (task_id) on delete cascade,
  identity_key_hash text not null check (identity_key_hash ~ '^[0-9a-f]{64}$'),
  created timestamptz not null default now()
);

create index boot_action_task_idx on boot_action (task_id);

-- One row per boot action instance. `action_id` is a ULID in Drydock's 26-character base32 form
-- (what the API and the templates show). A redeploy replaces the node's rows with its new ones,
-- so no stale instance of the same name is ever picked (Drydock defect S13).
create table boot_action_status (
  action_id text primary key check (action_id ~ '^[0-9A-HJKMNP-TV-Z]{26}$'),
  node_name text not null references boot_action (node_name) on delete cascade,
  action_name text not null check (action_name <> '' and octet_length(action_name) <= 255),
  task_id uuid not null references tasks (task_id) on delete cascade,
  identity_key_hash text not null check (identity_key_hash ~ '^[0-9a-f]{64}$'),
  -- Drydock's ActionResult values: `incomplete` while signalling is on, `unreported` when off.
  action_status text not null check (
    action_status in ('incomplete', 'success', 'failure', 'unreported')),
  created timestamptz not null default now(),
  updated timestamptz not null default now(),
  constraint boot_action_status_name_key unique (node_name, action_name)
);

create index boot_action_status_task_idx on boot_action_status (task_id);

-- Only `incomplete` may change, and only to a final status: the report statement asks for it,
-- this refuses any other path (a hand-written update, a future bug) that would rewrite a result
-- the orchestrator may already have acted on.
create function boot_action_status_locked() returns trigger
language plpgsql as $$
begin
  if old.action_status <> 'incomplete' and new.action_status is distinct from old.action_status then
    raise exception 'boot action % is final (%); its status cannot change', old.action_id, old.action_status
      using errcode = '23514', constraint = 'boot_action_status_final';
  end if;
  if new.action_status = 'unreported' and old.action_status = 'incomplete' then
    raise exception 'boot action % cannot become unreported', old.action_id
      using errcode = '23514', constraint = 'boot_action_status_final';
  end if;
  return new;
end
$$;

create trigger boot_action_status_locked before update of action_status on boot_action_status
  for each row execute function boot_action_status_locked();
