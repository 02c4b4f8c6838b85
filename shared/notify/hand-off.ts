import type { TransactionalDb } from '../db/port.ts';
import { type ColumnSpec, p, type Row, type Statement } from '../db/sql.ts';
import {
  markPublishedText,
  type OutboxEvent,
  RETURNED_EVENTS,
  toReturnedEvents,
} from '../store/outbox.ts';

/**
 * Between a container's statements and its inline publisher, so that publishing costs no Data API
 * call of its own: a statement that wrote events returns them (`returnedEvents`), and the hand-off
 * takes them off its rows for the publisher to deliver; the ids delivered are marked published by
 * a CTE put in front of the container's next statement, whatever it is. Until then the rows stay
 * pending: a container that never sends another statement leaves them to the schedule's sweep,
 * which takes rows older than the time a container has to mark them (delivered twice then; never
 * lost).
 */
export interface OutboxHandOff {
  /** The container's Db: every statement goes through it. */
  readonly db: TransactionalDb;
  /**
   * The events the statements returned since the last call, whether any of them could return
   * events (a statement with the `RETURNED_EVENTS` column, even when it wrote none), and whether
   * one wrote more than it could return (`omitted`: those are to be claimed).
   */
  take(): { events: OutboxEvent[]; returning: boolean; omitted: boolean };
  /** Marks these events published with the next statement. */
  markLater(eventIds: readonly number[]): void;
  /** Event ids delivered and not yet marked (what the tests check). */
  readonly unmarked: readonly number[];
}

/** The mark's CTE name: prefixed so that it cannot meet a statement's own. */
const MARK_CTE = 'outbox_marked_';

/**
 * `statement` with the mark of `eventIds` in front, as a data-modifying CTE (run whether or not
 * the statement reads it, committed or rolled back with it), its ids the last parameter. Only a
 * statement that may start with a WITH clause carries it; others are sent as they are.
 */
function withMark<C extends ColumnSpec>(
  statement: Statement<C>,
  eventIds: readonly number[],
): Statement<C> | undefined {
  const cte = `${MARK_CTE} as (${markPublishedText(`$${statement.params.length + 1}`)})`;
  const opening = /^\s*with\s+(?:recursive\s+)?/i.exec(statement.text)?.[0];
  let text: string;
  if (opening !== undefined) {
    text = `${opening}${cte},\n${statement.text.slice(opening.length)}`;
  } else if (/^\s*(?:select|insert|update|delete)\b/i.test(statement.text)) {
    text = `with ${cte}\n${statement.text}`;
  } else {
    return undefined;
  }
  return { ...statement, text, params: [...statement.params, p.json(eventIds)] };
}

export function createOutboxHandOff(inner: TransactionalDb): OutboxHandOff {
  let returned: OutboxEvent[] = [];
  let returning = false;
  let omitted = false;
  let unmarked: number[] = [];

  const query = async <C extends ColumnSpec>(statement: Statement<C>): Promise<Row<C>[]> => {
    const marking = unmarked;
    const marked = marking.length > 0 ? withMark(statement, marking) : undefined;
    const rows = await inner.query(marked ?? statement);
    // Committed: those marks are done (others may have been added meanwhile).
    if (marked) unmarked = unmarked.filter((id) => !marking.includes(id));
    if (RETURNED_EVENTS in statement.columns) {
      returning = true;
      for (const row of rows as Record<string, unknown>[]) {
        const got = toReturnedEvents(row[RETURNED_EVENTS]);
        returned.push(...got.events);
        omitted ||= got.omitted;
        delete row[RETURNED_EVENTS];
      }
    }
    return rows;
  };

  const db: TransactionalDb = {
    driver: inner.driver,
    // The statements return their events to this Db: it hands them to the publisher.
    returnsEvents: true,
    query,
    close: () => inner.close(),
    transaction: (work) => inner.transaction(work),
    ...(inner.listen ? { listen: inner.listen } : {}),
  };

  return {
    db,
    take() {
      const taken = { events: returned, returning, omitted };
      returned = [];
      returning = false;
      omitted = false;
      return taken;
    },
    markLater(eventIds) {
      for (const id of eventIds) if (!unmarked.includes(id)) unmarked.push(id);
    },
    get unmarked() {
      return unmarked;
    },
  };
}
