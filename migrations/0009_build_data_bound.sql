-- One build-data payload always fits one read: the Data API answers at most 1 MiB a statement,
-- and a read returns at least one whole item, so an item of 1 MiB (what a request body could
-- carry) could never be read through it. A payload holds at most 480 KiB as JSON text (escaped
-- once, as an answer carries it), so one item and its metadata stay within one read's 512 KiB.
-- NOT VALID: enforced on every new write; rows written before are left as they are.
-- Forward-only: never edit this file once applied.
alter table build_data add constraint build_data_payload_bound check (
  json_text_bytes(data_element) <= 491520) not valid;
