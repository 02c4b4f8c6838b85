-- The drain's hot path, lighter.
-- Forward-only: never edit this file once applied.

-- `json_text_bytes` (migration 0008) computes `tasks.answer_bytes`, a stored column recomputed by
-- every update of a task. As a SQL function it was inlined into that expression, and the
-- expression is planned again for every statement that updates a task: thirteen inlined calls
-- of the polymorphic `to_json` cost about 500 µs of server CPU per single-row update (a claim, a
-- completion), more than the rest of the update. A PL/pgSQL body is never inlined, its expression
-- is planned once per session, and it computes the same value, so the rows already stored stay
-- right and nothing is rewritten.
create or replace function json_text_bytes(value text) returns integer
language plpgsql immutable parallel safe as $$
begin
  return coalesce(octet_length(to_json(value)::text), 4);
end
$$;
