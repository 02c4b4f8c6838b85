-- The bounds of migrations 0004, 0008, 0009 and 0010 were added NOT VALID: every new write is
-- checked, rows written before them were not. Each is validated now where no row is past it, so
-- a fresh or clean database ends with every bound proven. Where a row is past it, the bound stays
-- NOT VALID (still enforced on every new write) and a WARNING names it and counts the rows: the
-- deployment goes on, and the operator deals with those rows, then runs
-- `ALTER TABLE <table> VALIDATE CONSTRAINT <name>` (it blocks no reads or writes).
-- Forward-only: never edit this file once applied.
--
-- Each bound is validated by a statement of its own, under at most 20 s (the Data API ends a
-- call at 45 s; the pg driver's deadline is `DB_STATEMENT_TIMEOUT_MS`, 25 s by default, when
-- lower it is kept): a table too large to check in that time keeps its bound NOT VALID, with a
-- WARNING, rather than failing the deployment.

select set_config('statement_timeout',
  case when current_setting('statement_timeout')::interval = interval '0'
         or current_setting('statement_timeout')::interval > interval '20 s'
       then '20s' else current_setting('statement_timeout') end, true);

create function validate_bound_0017(bound text) returns text
language plpgsql as $$
declare
  c record;
  past bigint;
begin
  select con.conname, con.convalidated, cls.relname, ns.nspname,
         pg_get_expr(con.conbin, con.conrelid) as expr
    into c
    from pg_constraint con
    join pg_class cls on cls.oid = con.conrelid
    join pg_namespace ns on ns.oid = cls.relnamespace
   where con.conname = bound and con.contype = 'c' and ns.nspname = current_schema();
  if not found then
    return 'absent';
  end if;
  if c.convalidated then
    return 'valid';
  end if;
  begin
    execute format('alter table %I.%I validate constraint %I', c.nspname, c.relname, c.conname);
    return 'validated';
  exception
    when check_violation then
      -- The rows past it, by the constraint's own expression (a check fails only when false).
      begin
        execute format('select count(*) from %I.%I where (%s) is false', c.nspname, c.relname,
          c.expr) into past;
        raise warning '% on % stays NOT VALID: % row(s) written before it are past its bound '
          '(new writes are checked); deal with them, then run ALTER TABLE % VALIDATE CONSTRAINT %',
          c.conname, c.relname, past, c.relname, c.conname;
      exception when query_canceled then
        past := -1;
        raise warning '% on % stays NOT VALID: rows written before it are past its bound (not '
          'counted in time; new writes are checked); deal with them, then run ALTER TABLE % '
          'VALIDATE CONSTRAINT %', c.conname, c.relname, c.relname, c.conname;
      end;
      return format('not valid: %s row(s) past it', coalesce(nullif(past, -1)::text, 'some'));
    when query_canceled then
      raise warning '% on % stays NOT VALID: the table was not checked within the statement '
        'deadline (new writes are checked); run ALTER TABLE % VALIDATE CONSTRAINT % by hand',
        c.conname, c.relname, c.relname, c.conname;
      return 'not valid: not checked in time';
  end;
end
$$;

select validate_bound_0017('tasks_result_lists_bound');
select validate_bound_0017('tasks_node_filter_bound');
select validate_bound_0017('tasks_row_bound');
select validate_bound_0017('result_message_bound');
select validate_bound_0017('build_data_payload_bound');

drop function validate_bound_0017(text);
