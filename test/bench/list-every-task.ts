// `node_modules/.bin/node test/bench/list-every-task.ts`: what Drydock's `GET /tasks` (every task with its
// messages, no limit) costs here, in statements (= Data API calls) and time, at a few sizes, on
// the pg adapter against the test server. A fresh schema per size, dropped afterwards.
import { randomBytes } from 'node:crypto';
import { listEveryTask } from '#shared/api/tasks.ts';
import { migrate } from '#shared/db/migrate.ts';
import { migrations } from '#shared/db/migrations.generated.ts';
import { createPgDb } from '#shared/db/pg.ts';
import { sql, statement } from '#shared/db/sql.ts';
import { countingDb } from '#test/support/counting-db.ts';
import { adminQuery, urlWithSchema } from '#test/support/pg-server.ts';

const SIZES = [
  { tasks: 100, messagesPerTask: 10, messageChars: 200 },
  { tasks: 1_000, messagesPerTask: 10, messageChars: 200 },
  { tasks: 10_000, messagesPerTask: 10, messageChars: 200 },
  { tasks: 1_000, messagesPerTask: 100, messageChars: 200 },
];

console.log('| tasks | messages | response | statements | time |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const size of SIZES) {
  const schema = `bench_list_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const db = createPgDb({ connectionString: urlWithSchema(schema), maxConnections: 2 });
  try {
    await migrate(db, migrations);
    await db.query(
      statement(
        {},
        sql`with t as (
  insert into tasks (action, status, design_ref, message_seq)
  select 'deploy_nodes', 'complete', 'https://designs.example/' || g, ${size.messagesPerTask}::int
  from generate_series(1, ${size.tasks}::int) g returning task_id
)
insert into result_message (task_id, sequence, message, error, context_type, context)
select t.task_id, s, repeat('m', ${size.messageChars}::int), false, 'node', 'n1'
from t cross join generate_series(1, ${size.messagesPerTask}::int) s`,
      ),
    );
    const counting = countingDb(db);
    const started = performance.now();
    const tasks = await listEveryTask({ db: counting }, {});
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(JSON.stringify(tasks));
    console.log(
      `| ${size.tasks.toLocaleString('en')} | ${(size.tasks * size.messagesPerTask).toLocaleString('en')} | ${(bytes / 1024 / 1024).toFixed(1)} MB | ${counting.statements} | ${Math.round(ms)} ms |`,
    );
  } finally {
    await db.close();
    await adminQuery(`drop schema ${schema} cascade`);
  }
}
