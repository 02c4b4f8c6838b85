import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';
import {
  type ApiClient,
  type BuildData,
  type CreateTaskRequest,
  documentsOf,
  isFinished,
  type Message,
  type Task,
  type TaskAction,
  type TaskStatus,
} from '#shared/client/api-client.ts';
import { UsageError } from '#shared/errors.ts';
import { LIMITS } from '#shared/limits.ts';
import { type Output, statusStyle } from './output.ts';

/** Exit codes scripts can rely on (documented in infra/cli/README.md). */
export const EXIT = {
  /** Done; for `tasks wait`, the task succeeded; for `design validate`, the design is valid. */
  ok: 0,
  /** The subject failed: the task finished without success, or the design is invalid. */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The task, node or lease does not exist. */
  notFound: 3,
  /** The service refused the request (400, 409, 412, 413, 422, 428). */
  refused: 4,
  /** Not authenticated or not allowed (401, 403). */
  unauthorised: 5,
  /** `tasks wait --timeout` ran out. */
  timeout: 6,
  /** The service could not be reached or failed (5xx, 429, network). */
  unavailable: 7,
  /** A bug in the CLI itself. */
  internal: 70,
} as const;

export interface CommandContext {
  readonly client: ApiClient;
  readonly out: Output;
  /** Options of this command, as parsed. */
  readonly options: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly args: readonly string[];
  /** Waits between polls (`tasks wait`, `messages tail -f`). */
  readonly sleep: (ms: number) => Promise<void>;
}

/** `30s`, `5m`, `2h`, `1d`, `500ms` or plain seconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|min|h|d)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`${what} must be a duration such as 30s, 5m, 2h or 1d (got ${text})`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor =
    { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
  return value * factor;
}

function positiveInt(text: string | undefined, what: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max} (got ${text})`);
  }
  return Number(text);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function arg(ctx: CommandContext, index: number, what: string): string {
  const value = ctx.args[index];
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.max(0, seconds)}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function outcomeOf(task: Task): number {
  return task.status === 'complete' && task.result.status === 'success' ? EXIT.ok : EXIT.failed;
}

// ------------------------------------------------------------------------------------------
// tasks

export async function tasksList(ctx: CommandContext): Promise<number> {
  const limit = positiveInt(str(ctx.options.limit), '--limit', 100_000) ?? 50;
  const since = str(ctx.options.since);
  const cutoff = since === undefined ? null : Date.now() - parseDuration(since, '--since');
  const tasks: Task[] = [];
  let cursor: string | undefined;
  paging: do {
    const page = await ctx.client.listTasks({
      status: str(ctx.options.status) as TaskStatus | undefined,
      action: str(ctx.options.action) as TaskAction | undefined,
      topLevel: ctx.options.all !== true,
      limit: Math.min(1000, limit - tasks.length),
      cursor,
    });
    for (const task of page.tasks) {
      // Newest first: the first task older than the bound ends the listing.
      if (cutoff !== null && Date.parse(task.created) < cutoff) break paging;
      tasks.push(task);
      if (tasks.length >= limit) break paging;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (ctx.out.json) {
    ctx.out.data(tasks);
    return EXIT.ok;
  }
  if (tasks.length === 0) {
    ctx.out.note('No task matches.');
    return EXIT.ok;
  }
  ctx.out.table(
    ['TASK', 'ACTION', 'STATUS', 'RESULT', 'SUBTASKS', 'ERRORS', 'CREATED'],
    tasks.map((t) => [
      t.task_id,
      t.action,
      ctx.out.style(statusStyle(t.status), t.status),
      ctx.out.style(statusStyle(t.result.status), t.result.status),
      String(t.subtask_id_list.length),
      t.result.details.errorCount > 0
        ? ctx.out.style('red', String(t.result.details.errorCount))
        : '0',
      ago(t.created),
    ]),
  );
  return EXIT.ok;
}

function printMessage(out: Output, m: Message, label?: string): void {
  const head = `${m.ts.slice(0, 19).replace('T', ' ')} ${label ? `${label} ` : ''}${m.context_type}:${m.context}`;
  const text = m.error ? out.style('red', `ERROR ${m.message}`) : m.message;
  out.line(`${out.style('dim', head)}  ${text}`);
}

/** A task's messages after sequence `after`, in order: a listing page at a time, to the last. */
async function* messagePages(
  ctx: CommandContext,
  taskId: string,
  after: number,
): AsyncGenerator<Message[]> {
  let from: number | null = after;
  while (from !== null) {
    const page = await ctx.client.listMessages(taskId, { after: from, limit: LIMITS.listPage });
    yield page.messages;
    from = page.messages.length === 0 ? null : page.nextAfter;
  }
}

/** The last `count` of a task's `total` messages (their sequences run 1 to `total`), in order. */
async function lastMessagesOf(
  ctx: CommandContext,
  taskId: string,
  total: number,
  count: number,
): Promise<Message[]> {
  const out: Message[] = [];
  for await (const messages of messagePages(ctx, taskId, Math.max(0, total - count))) {
    out.push(...messages);
    if (out.length >= count) break;
  }
  return out.slice(0, count);
}

export async function tasksShow(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const lastMessages = positiveInt(str(ctx.options.messages), '--messages', 100_000) ?? 20;
  if (ctx.options.tree === true) {
    const tree = await ctx.client.getTaskTree(id);
    if (ctx.out.json) {
      ctx.out.data({
        init_task_id: tree.rootId,
        ...Object.fromEntries(tree.tasks),
        // As the API answers it: beside the tasks when its bound cut the tree.
        ...(tree.truncated ? { truncated: { tasks: tree.truncated } } : {}),
      });
      return EXIT.ok;
    }
    const print = (taskId: string, depth: number, seen: Set<string>) => {
      const task = tree.tasks.get(taskId);
      if (!task || seen.has(taskId)) return;
      seen.add(taskId);
      const errors = task.result.details.errorCount;
      ctx.out.line(
        `${'  '.repeat(depth)}${task.action} ${ctx.out.style('dim', task.task_id)} ` +
          `${ctx.out.style(statusStyle(task.status), task.status)} ` +
          `${ctx.out.style(statusStyle(task.result.status), task.result.status)}` +
          (errors > 0 ? ctx.out.style('red', ` ${errors} error(s)`) : ''),
      );
      for (const child of task.subtask_id_list) print(child, depth + 1, seen);
    };
    print(tree.rootId, 0, new Set());
    if (tree.truncated) {
      const { shown, total, next } = tree.truncated;
      ctx.out.line(
        ctx.out.style(
          'dim',
          `${shown} of ${total} tasks shown (the most one answer holds); the root's subtasks, page by page: ${next}`,
        ),
      );
    }
    return EXIT.ok;
  }
  const task = await ctx.client.getTask(id);
  if (ctx.out.json) {
    ctx.out.data(task);
    return EXIT.ok;
  }
  const r = task.result;
  ctx.out.facts([
    ['task', task.task_id],
    ['action', task.action],
    ['status', ctx.out.style(statusStyle(task.status), task.status)],
    [
      'result',
      `${ctx.out.style(statusStyle(r.status), r.status)}${r.message ? ` ${r.message}` : ''}`,
    ],
    ['parent', task.parent_task_id ?? '—'],
    ['design', task.design_ref ?? '—'],
    ['subtasks', String(task.subtask_id_list.length)],
    ['successes', r.successes.join(', ') || '—'],
    ['failures', r.failures.length > 0 ? ctx.out.style('red', r.failures.join(', ')) : '—'],
    ['links', r.links.map((l) => `${l.rel} ${l.href}`).join(', ') || '—'],
    ['created', `${task.created} by ${task.created_by ?? '—'}`],
    ['updated', task.updated],
    ['retries', String(task.retry)],
  ]);
  // The task's answer embeds its first messages (the first 1,000 within 512 KiB); past that its
  // `truncated.messages` gives the total, and the last ones are read where they are.
  const embedded = r.details.messageList;
  const cut = task.truncated?.messages;
  const total = cut?.total ?? embedded.length;
  const last = cut
    ? await lastMessagesOf(ctx, id, total, lastMessages)
    : embedded.slice(-lastMessages);
  if (total > 0) {
    ctx.out.line();
    ctx.out.line(ctx.out.style('bold', `messages (${total}, ${r.details.errorCount} errors)`));
    for (const m of last) printMessage(ctx.out, m);
  }
  return EXIT.ok;
}

export async function tasksCreate(ctx: CommandContext): Promise<number> {
  const action = arg(ctx, 0, 'the action (e.g. deploy_nodes)');
  const designRef = str(ctx.options['design-ref']);
  if (!designRef) throw new UsageError('--design-ref is required');
  const nodes = (ctx.options.node as string[] | undefined) ?? [];
  const task = await ctx.client.createTask(
    {
      // The service checks the action (a user action, else 400 naming the allowed ones).
      action: action as CreateTaskRequest['action'],
      design_ref: designRef,
      ...(nodes.length > 0
        ? {
            node_filter: {
              filter_set_type: 'union',
              filter_set: [{ filter_type: 'union', node_names: nodes }],
            },
          }
        : {}),
    },
    str(ctx.options['idempotency-key']),
  );
  if (ctx.out.json) ctx.out.data(task);
  else ctx.out.line(task.task_id);
  return EXIT.ok;
}

export async function tasksTerminate(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const changed = await ctx.client.terminateTask(id, ctx.options.recursive !== false);
  if (ctx.out.json) {
    ctx.out.data(changed);
    return EXIT.ok;
  }
  ctx.out.line(`termination requested for ${changed.length} task(s)`);
  for (const t of changed) {
    ctx.out.line(`  ${t.task_id} ${t.action} ${ctx.out.style(statusStyle(t.status), t.status)}`);
  }
  return EXIT.ok;
}

/**
 * Drydock's retry through the service's retry operation. The service fences it by the lease
 * epoch: the live holder's is used (read first) unless `--epoch` names one.
 */
export async function tasksRetry(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const maxAttempts = positiveInt(str(ctx.options['max-attempts']), '--max-attempts', 1_000_000);
  let epoch = positiveInt(str(ctx.options.epoch), '--epoch', Number.MAX_SAFE_INTEGER);
  if (epoch === undefined) {
    const lease = await ctx.client.getLease();
    if (!lease?.active) {
      throw new UsageError(
        'no orchestrator holds the lease, and a retry runs under the live epoch: pass --epoch',
      );
    }
    epoch = lease.epoch;
  }
  const outcome = await ctx.client.retryTask(id, { epoch, maxAttempts });
  if (ctx.out.json) ctx.out.data(outcome);
  else if (outcome.retried) {
    ctx.out.line(
      `retry ${outcome.task.retry} of ${outcome.task.task_id} under epoch ${epoch}: ${outcome.task.status}`,
    );
  } else {
    ctx.out.line(`nothing to retry: ${outcome.task.task_id} has no failed entities`);
  }
  return EXIT.ok;
}

/** The longest one wait request asks for (the service cuts it to its own bound anyway). */
const WAIT_REQUEST_SECONDS = 20;

/**
 * Waits until the task finishes, with a progress line on stderr; exits 0 when it succeeded, 1
 * when it finished otherwise, 6 on --timeout. After the first read each round asks the service
 * to answer when the task changes (`?wait=&version=`), so a change shows at once and an idle task
 * costs one request per 20 s; a service without waits is polled every --interval as before.
 */
export async function tasksWait(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const timeout = parseDuration(str(ctx.options.timeout) ?? '1h', '--timeout');
  const interval = parseDuration(str(ctx.options.interval) ?? '2s', '--interval');
  const started = Date.now();
  let version: number | undefined;
  let waits = true;
  for (;;) {
    const waitSeconds = Math.floor(
      Math.min(timeout - (Date.now() - started), WAIT_REQUEST_SECONDS * 1000) / 1000,
    );
    let waited = false;
    let task: Task;
    if (version !== undefined && waits && waitSeconds >= 1) {
      const answer = await ctx.client.waitForTask(id, { seconds: waitSeconds, version });
      task = answer.task;
      waited = answer.waited;
      waits = answer.waited;
    } else {
      task = await ctx.client.getTask(id);
    }
    version = task.version;
    const elapsed = Math.round((Date.now() - started) / 1000);
    ctx.out.progress(
      `${task.action} ${task.task_id.slice(0, 8)}: ${task.status}, result ${task.result.status}, ` +
        `${task.subtask_id_list.length} subtasks, ${task.result.details.errorCount} errors (${elapsed}s)`,
    );
    if (isFinished(task)) {
      ctx.out.endProgress();
      if (ctx.out.json) ctx.out.data(task);
      else {
        const ok = outcomeOf(task) === EXIT.ok;
        ctx.out.line(
          `${task.task_id} ${ctx.out.style(ok ? 'green' : 'red', `${task.status}: ${task.result.status}`)}`,
        );
      }
      return outcomeOf(task);
    }
    if (Date.now() - started + (waited ? 0 : interval) > timeout) {
      ctx.out.endProgress();
      ctx.out.note(`timed out after ${elapsed}s; the task is still ${task.status}`);
      if (ctx.out.json) ctx.out.data(task);
      return EXIT.timeout;
    }
    if (!waited) await ctx.sleep(interval);
  }
}

// ------------------------------------------------------------------------------------------
// messages

/**
 * Prints a task's messages; with -f keeps following until the task has finished and its last
 * messages are out. Between rounds it asks the service to answer on a new message or a change of
 * the task (`?wait=&after=&version=`); a service without waits is polled every --interval.
 */
export async function messagesTail(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const follow = ctx.options.follow === true;
  const errorsOnly = ctx.options.errors === true;
  const interval = parseDuration(str(ctx.options.interval) ?? '2s', '--interval');
  let after = positiveInt(str(ctx.options.after), '--after', Number.MAX_SAFE_INTEGER) ?? 0;
  let waits = true;
  for (;;) {
    // Read what is there now; with -f, keep reading until the task has finished and its last
    // messages are out.
    const task = follow ? await ctx.client.getTask(id) : undefined;
    const finishedBefore = task ? isFinished(task) : true;
    for await (const messages of messagePages(ctx, id, after)) {
      for (const m of messages) {
        after = m.sequence;
        if (errorsOnly && !m.error) continue;
        if (ctx.out.json) ctx.out.data(m, false);
        else printMessage(ctx.out, m, `#${m.sequence}`);
      }
    }
    if (finishedBefore || !task) return EXIT.ok;
    if (waits) {
      const answer = await ctx.client.waitForMessages(id, {
        seconds: WAIT_REQUEST_SECONDS,
        after,
        version: task.version,
      });
      waits = answer.waited;
      if (answer.waited) continue;
    }
    await ctx.sleep(interval);
  }
}

// ------------------------------------------------------------------------------------------
// build data

function printBuildData(ctx: CommandContext, items: readonly BuildData[]): void {
  if (ctx.out.json) {
    ctx.out.data(items);
    return;
  }
  if (ctx.options.data === true) {
    for (const item of items) {
      ctx.out.line(
        ctx.out.style(
          'bold',
          `== ${item.node_name} ${item.generator} ${item.collected_date} (task ${item.task_id}, ${item.data_format})`,
        ),
      );
      ctx.out.line(item.data_element ?? '');
    }
    return;
  }
  ctx.out.table(
    ['NODE', 'GENERATOR', 'COLLECTED', 'TASK', 'FORMAT'],
    items.map((i) => [i.node_name, i.generator, i.collected_date, i.task_id, i.data_format]),
  );
}

export async function buildDataNode(ctx: CommandContext): Promise<number> {
  const node = arg(ctx, 0, 'the node name');
  let items = await ctx.client.getNodeBuildData(node, {
    latest: ctx.options.all !== true,
    verbosity: ctx.options.data === true ? 2 : 1,
    taskId: str(ctx.options.task),
  });
  const generator = str(ctx.options.generator);
  if (generator) items = items.filter((i) => i.generator === generator);
  if (items.length === 0) {
    if (ctx.out.json) ctx.out.data([]);
    ctx.out.note(`No build data for node ${node}.`);
    return EXIT.notFound;
  }
  printBuildData(ctx, items);
  return EXIT.ok;
}

export async function buildDataTask(ctx: CommandContext): Promise<number> {
  const id = arg(ctx, 0, 'the task id');
  const items = await ctx.client.getTaskBuildData(id, {
    verbosity: ctx.options.data === true ? 2 : 1,
  });
  if (items.length === 0) {
    if (ctx.out.json) ctx.out.data([]);
    ctx.out.note(`No build data recorded under task ${id}.`);
    return EXIT.notFound;
  }
  printBuildData(ctx, items);
  return EXIT.ok;
}

// ------------------------------------------------------------------------------------------
// lease, queue, purge

export async function leaseShow(ctx: CommandContext): Promise<number> {
  const lease = await ctx.client.getLease();
  if (ctx.out.json) ctx.out.data(lease);
  if (!lease) {
    ctx.out.note('No orchestrator instance has ever claimed the lease.');
    return EXIT.notFound;
  }
  if (ctx.out.json) return EXIT.ok;
  const remaining = Math.round((Date.parse(lease.expires_at) - Date.parse(lease.db_now)) / 1000);
  ctx.out.facts([
    ['holder', lease.holder],
    ['state', lease.active ? ctx.out.style('green', 'active') : ctx.out.style('red', 'expired')],
    ['epoch', `${lease.epoch} (${lease.epoch - 1} takeover(s) since the first claim)`],
    ['acquired', lease.acquired_at],
    ['renewed', lease.renewed_at],
    [
      'expires',
      `${lease.expires_at} (${remaining >= 0 ? `in ${remaining}s` : `${-remaining}s ago`})`,
    ],
  ]);
  return EXIT.ok;
}

export async function queueShow(ctx: CommandContext): Promise<number> {
  const staleAfter = str(ctx.options['stale-after']);
  const health = await ctx.client.getQueueHealth(
    staleAfter === undefined
      ? {}
      : { staleAfterSeconds: Math.round(parseDuration(staleAfter, '--stale-after') / 1000) },
  );
  if (ctx.out.json) {
    ctx.out.data(health);
    return EXIT.ok;
  }
  const warn = (n: number) => (n > 0 ? ctx.out.style('red', String(n)) : String(n));
  ctx.out.facts([
    ['queued', String(health.queued)],
    [
      'oldest queued',
      health.oldest_queued
        ? `${health.oldest_queued.task_id} ${health.oldest_queued.action}, ${health.oldest_queued.age_seconds}s old`
        : '—',
    ],
    ['running', String(health.running)],
    [`stale (${health.stale_after_seconds}s)`, warn(health.stale)],
    ['stranded', warn(health.stranded)],
    ['lease epoch', health.lease_epoch === null ? 'no leader' : String(health.lease_epoch)],
  ]);
  if (health.stuck.length > 0) {
    ctx.out.line();
    ctx.out.table(
      ['TASK', 'ACTION', 'STATUS', 'WHY', 'IDLE', 'EPOCH'],
      health.stuck.map((t) => [
        t.task_id,
        t.action,
        t.status,
        [t.stranded ? 'stranded' : '', t.stale ? 'stale' : ''].filter(Boolean).join(','),
        `${t.idle_seconds}s`,
        String(t.claimed_epoch ?? '—'),
      ]),
    );
  }
  return EXIT.ok;
}

export async function purge(ctx: CommandContext): Promise<number> {
  const days = positiveInt(str(ctx.options.days), '--days', 36_500);
  if (days === undefined) throw new UsageError('--days is required (finished tasks older than it)');
  const done = await ctx.client.purgeTasks(days);
  if (ctx.out.json) ctx.out.data(done);
  else {
    ctx.out.line(
      `purged ${done.deleted_tasks} task tree(s) finished more than ${done.days} days ago` +
        (done.more ? ' (more remain: run it again)' : ''),
    );
  }
  return EXIT.ok;
}

// ------------------------------------------------------------------------------------------
// design

export async function designValidate(ctx: CommandContext): Promise<number> {
  const source = arg(ctx, 0, 'a design reference, a file, or - for standard input');
  const isRef = /^[a-z][a-z0-9+.-]*:\/\//i.test(source);
  const content = isRef
    ? undefined
    : source === '-'
      ? await readStream(process.stdin)
      : await readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${source}: ${error.code ?? error.message}`);
        });
  const status = await ctx.client.validateDesign(
    content === undefined ? { href: source } : { content },
  );
  const valid = status.code === 200;
  if (ctx.out.json) {
    ctx.out.data(status);
    return valid ? EXIT.ok : EXIT.failed;
  }
  ctx.out.line(
    ctx.out.style(
      valid ? 'green' : 'red',
      `${valid ? 'valid' : 'invalid'}: ${status.message ?? status.status} (${status.details.errorCount} error(s))`,
    ),
  );
  for (const m of status.details.messageList) {
    const level = m.level ?? (m.error ? 'Error' : 'Info');
    const docs = documentsOf(m)
      .map((d) => [d.schema, d.name].filter(Boolean).join(' '))
      .join(', ');
    const color = level === 'Error' ? 'red' : level === 'Warning' ? 'yellow' : 'dim';
    ctx.out.line(
      `${ctx.out.style(color, level.padEnd(7))} ${m.name ?? ''} ${m.message}${docs ? ctx.out.style('dim', ` [${docs}]`) : ''}`,
    );
  }
  return valid ? EXIT.ok : EXIT.failed;
}
