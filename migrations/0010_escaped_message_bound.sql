-- A message is measured as an answer carries it, as a task row already is (`tasks.answer_bytes`,
-- migration 0008): each value as JSON text, escaped once. Stored bytes understate it: a control
-- character is 1 byte stored and 6 as JSON (`\u0001`), a quote 1 and 2, and `extra` is escaped
-- once more as the string the Data API carries it in. So a message of 60,000 control characters
-- passed the raw bound of 62 KiB and answered 360 KB, past a Data API row (64 KB), and reads that
-- summed stored bytes to stay within 512 KiB answered several MB, past a Data API result (1 MiB).
-- `message_answer_bytes` is that measure: the bound below; the reads that sum the messages they
-- return write the same body out (`messageAnswerBytesSql` in `shared/store/bounds.ts`), cheaper
-- there than a call a row.
-- NOT VALID: enforced on every new write; rows written before are left as they are.
-- Forward-only: never edit this file once applied.

-- PL/pgSQL, like `json_text_bytes` since migration 0011: the check calls it once a row, its
-- expression planned once a session.
create function message_answer_bytes(message text, context text, context_type text, extra jsonb)
returns integer
language plpgsql immutable parallel safe as $$
begin
  return octet_length(to_json(message)::text) + octet_length(to_json(context)::text)
    + octet_length(to_json(context_type)::text) + octet_length(to_json(extra::text)::text);
end
$$;

alter table result_message drop constraint result_message_bound;
alter table result_message add constraint result_message_bound check (
  message_answer_bytes(message, context, context_type, extra) <= 63488) not valid;
