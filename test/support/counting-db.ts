import type { Db } from '#shared/db/port.ts';

/** Wraps a Db and counts the statements sent through it: one round trip per store operation. */
export function countingDb(inner: Db): Db & { statements: number; reset(): void } {
  const wrapper = {
    driver: inner.driver,
    statements: 0,
    reset() {
      wrapper.statements = 0;
    },
    query: ((statement) => {
      wrapper.statements += 1;
      return inner.query(statement);
    }) as Db['query'],
    close: () => inner.close(),
  };
  return wrapper;
}
