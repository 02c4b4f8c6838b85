import pg from 'pg';

/** The Postgres server the integration tests use (trust auth on this machine). */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Set to 1 to skip the server-backed half explicitly; it never skips silently. */
export const SKIP_SERVER = process.env.DRYDOCK_TEST_SKIP_PG === '1';

/** Runs one admin statement on the test server with a short-lived client. */
export async function adminQuery(text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 5_000,
  });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A connection string whose sessions live in `schema` (each test file gets its own). */
export function urlWithSchema(
  schema: string,
  settings: Readonly<Record<string, string>> = {},
): string {
  const url = new URL(TEST_DATABASE_URL);
  const options = Object.entries({ search_path: schema, ...settings })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  url.searchParams.set('options', options);
  return url.toString();
}
