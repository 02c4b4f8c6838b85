-- The newest build-data item per node and generator, kept beside the history by triggers.
-- Forward-only: never edit this file once applied.
--
-- `latest` read the history itself: DISTINCT ON reads every entry of the node (fast for a short
-- history, 25 ms for a node of 100,000 rows), a loose index scan descends once per generator
-- (fast for a long history, 1.5–2× DISTINCT ON's time for a short one). Neither wins both, and a
-- statement choosing between them by a bounded prefix was slower than either. Keeping the answer
-- itself makes `latest` one range of a small index whatever the depth: one row per generator.
--
-- Triggers keep it in step (statement-level, over transition tables), inside the statement that
-- wrote the history, so every writer, raw SQL in tests included, keeps it right; the store's
-- post is still one statement. An insert moves a generator's row forward only to a newer item
-- (collected date, then id: the order `latest` always used), so items arriving out of order and
-- concurrent posts (ON CONFLICT waits for the other writer's row and re-checks) keep the newest.
-- Rows are upserted in (node, generator) order, so two posts take their row locks in one order.
-- Build data is never updated or deleted by the service; an update or delete by hand recomputes
-- the generators it touched from the history.
create table build_data_latest (
  node_name text not null,
  generator text not null,
  collected_date timestamptz not null,
  build_data_id bigint not null,
  task_id uuid not null,
  data_format text not null,
  -- What the row's metadata adds to a read as JSON text (escaped once): the three names'
  -- json_text_bytes, so a read sizes its page without computing them again.
  meta_bytes integer not null,
  primary key (node_name, generator)
);

-- `latest` reads a node's rows in the answer's order (newest first), index-only for all it returns.
create index build_data_latest_node_idx
  on build_data_latest (node_name, collected_date desc, build_data_id desc)
  include (generator, task_id, data_format, meta_bytes);

create function build_data_latest_insert() returns trigger
language plpgsql as $$
begin
  insert into build_data_latest as l
    (node_name, generator, collected_date, build_data_id, task_id, data_format, meta_bytes)
  select distinct on (a.node_name, a.generator)
    a.node_name, a.generator, a.collected_date, a.build_data_id, a.task_id, a.data_format,
    json_text_bytes(a.node_name) + json_text_bytes(a.generator) + json_text_bytes(a.data_format)
  from added a
  order by a.node_name, a.generator, a.collected_date desc, a.build_data_id desc
  on conflict (node_name, generator) do update set
    collected_date = excluded.collected_date, build_data_id = excluded.build_data_id,
    task_id = excluded.task_id, data_format = excluded.data_format, meta_bytes = excluded.meta_bytes
  where (excluded.collected_date, excluded.build_data_id) > (l.collected_date, l.build_data_id);
  return null;
end
$$;

create trigger build_data_latest_insert after insert on build_data
  referencing new table as added for each statement execute function build_data_latest_insert();

-- The generators an update or delete touched, recomputed from the history (one descent each):
-- their rows are removed, then the newest item of each that still has one is put back.
create function build_data_latest_recompute() returns trigger
language plpgsql as $$
begin
  delete from build_data_latest l using gone g
  where l.node_name = g.node_name and l.generator = g.generator;
  if tg_op = 'UPDATE' then
    delete from build_data_latest l using added a
    where l.node_name = a.node_name and l.generator = a.generator;
  end if;
  insert into build_data_latest
    (node_name, generator, collected_date, build_data_id, task_id, data_format, meta_bytes)
  select b.node_name, b.generator, b.collected_date, b.build_data_id, b.task_id, b.data_format,
    json_text_bytes(b.node_name) + json_text_bytes(b.generator) + json_text_bytes(b.data_format)
  from (select distinct node_name, generator from gone) t
  cross join lateral (
    select * from build_data d where d.node_name = t.node_name and d.generator = t.generator
    order by d.collected_date desc, d.build_data_id desc limit 1
  ) b
  order by b.node_name, b.generator
  on conflict (node_name, generator) do nothing;
  if tg_op = 'UPDATE' then
    insert into build_data_latest
      (node_name, generator, collected_date, build_data_id, task_id, data_format, meta_bytes)
    select b.node_name, b.generator, b.collected_date, b.build_data_id, b.task_id, b.data_format,
      json_text_bytes(b.node_name) + json_text_bytes(b.generator) + json_text_bytes(b.data_format)
    from (select distinct node_name, generator from added) t
    cross join lateral (
      select * from build_data d where d.node_name = t.node_name and d.generator = t.generator
      order by d.collected_date desc, d.build_data_id desc limit 1
    ) b
    order by b.node_name, b.generator
    on conflict (node_name, generator) do nothing;
  end if;
  return null;
end
$$;

create trigger build_data_latest_update after update on build_data
  referencing old table as gone new table as added for each statement
  execute function build_data_latest_recompute();
create trigger build_data_latest_delete after delete on build_data
  referencing old table as gone for each statement execute function build_data_latest_recompute();

-- `truncate build_data` empties it too (a delete: a truncate of both would refuse a nested one).
create function build_data_latest_truncate() returns trigger
language plpgsql as $$
begin
  delete from build_data_latest;
  return null;
end
$$;
create trigger build_data_latest_truncate after truncate on build_data for each statement
  execute function build_data_latest_truncate();

insert into build_data_latest
  (node_name, generator, collected_date, build_data_id, task_id, data_format, meta_bytes)
select distinct on (node_name, generator)
  node_name, generator, collected_date, build_data_id, task_id, data_format,
  json_text_bytes(node_name) + json_text_bytes(generator) + json_text_bytes(data_format)
from build_data
order by node_name, generator, collected_date desc, build_data_id desc;
