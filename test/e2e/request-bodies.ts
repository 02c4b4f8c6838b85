/**
 * The valid request bodies the bad and hostile request tables start from: a case changes or adds
 * the one field it is about. `{T}` is the table's seeded task, filled in by its runner.
 */

export const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/1/rendered-documents';

/** `POST /tasks`. */
export const task = (extra: object = {}) => ({
  action: 'verify_site',
  design_ref: DESIGN,
  ...extra,
});

/** One message of `POST /tasks/{id}/messages`. */
export const message = (extra: object = {}) => ({
  message: 'm',
  error: false,
  context_type: 'task',
  context: 'c',
  ...extra,
});

/** One item of `POST /nodes/{name}/builddata`, under the seeded task. */
export const item = (extra: object = {}) => ({
  task_id: '{T}',
  generator: 'lshw',
  data_format: 'text/xml',
  data_element: '<x/>',
  ...extra,
});
