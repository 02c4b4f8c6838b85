// The command line itself (the `drydock-state` bin loads it; reference: infra/cli/README.md).
import { setTimeout as sleep } from 'node:timers/promises';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createApiClient } from '#shared/client/api-client.ts';
import { ApiAnswerError, UsageError } from '#shared/errors.ts';
import {
  buildDataNode,
  buildDataTask,
  type CommandContext,
  designValidate,
  EXIT,
  leaseShow,
  messagesTail,
  purge,
  queueShow,
  tasksCreate,
  tasksList,
  tasksRetry,
  tasksShow,
  tasksTerminate,
  tasksWait,
} from './commands.ts';
import { type AuthMode, type Connection, connect } from './connection.ts';
import { Output } from './output.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** A command: its usage line (which declares its options, see `optionsOf`), a summary, its run. */
interface Command {
  readonly usage: string;
  readonly summary: string;
  run(ctx: CommandContext, connection: Connection): Promise<number>;
}

/**
 * A command's options, read from its usage line, so what the help shows and what the parser
 * takes are one text: `--name VALUE` takes a string, a bare `--name` is a flag (`--no-name`
 * its negation), `-x|--name` gives it a short form, and `]…` after it lets it repeat.
 */
export function optionsOf(usage: string): Options {
  const options: Options = {};
  const option = /(?:-(\w)\|)?--(?:no-)?([\w-]+)(?: ([^\s[\]-][^\s\]]*))?(\]…)?/g;
  for (const [, short, name, value, repeats] of usage.matchAll(option)) {
    options[name as string] = {
      type: value === undefined ? 'boolean' : 'string',
      ...(short ? { short } : {}),
      ...(repeats ? { multiple: true } : {}),
    };
  }
  return options;
}

/** The options every command takes, declared by this line as a command's by its usage. */
const GLOBAL_USAGE =
  'drydock-state [--url URL] [--auth none|sigv4|keystone] [--region R] [--token T] [--json] [-h|--help] <command>';
const GLOBAL: Options = optionsOf(GLOBAL_USAGE);

const COMMANDS: Record<string, Command> = {
  'tasks list': {
    usage: 'tasks list [--status S] [--action A] [--since 1d] [--all] [--limit N]',
    summary: 'tasks newest first (top-level unless --all)',
    run: tasksList,
  },
  'tasks show': {
    usage: 'tasks show <task-id> [--tree] [--messages N]',
    summary: 'a task with its result and last messages, or its whole tree',
    run: tasksShow,
  },
  'tasks create': {
    usage: 'tasks create <action> --design-ref <ref> [--node <name>]… [--idempotency-key K]',
    summary: 'queue a task (prints its id)',
    run: tasksCreate,
  },
  'tasks terminate': {
    usage: 'tasks terminate <task-id> [--no-recursive]',
    summary: 'request termination of a task and its unfinished subtasks',
    run: tasksTerminate,
  },
  'tasks retry': {
    usage: 'tasks retry <task-id> [--max-attempts N] [--epoch N]',
    summary: "run a finished task again for its failed entities (Drydock's retry_task)",
    run: tasksRetry,
  },
  'tasks wait': {
    usage: 'tasks wait <task-id> [--timeout 1h] [--interval 2s]',
    summary: 'wait until the task finishes; exit 0 on success, 1 otherwise, 6 on timeout',
    run: tasksWait,
  },
  'messages tail': {
    usage: 'messages tail <task-id> [-f|--follow] [--after N] [--errors] [--interval 2s]',
    summary: "a task's messages; -f follows them until the task finishes",
    run: messagesTail,
  },
  'builddata node': {
    usage: 'builddata node <name> [--all] [--generator G] [--task <task-id>] [--data]',
    summary: "a node's build data: newest per generator, or --all newest first",
    run: buildDataNode,
  },
  'builddata task': {
    usage: 'builddata task <task-id> [--data]',
    summary: 'build data recorded under a task',
    run: buildDataTask,
  },
  'lease show': {
    usage: 'lease show',
    summary: 'the orchestrator lease: holder, epoch, renewal, expiry',
    run: leaseShow,
  },
  'queue show': {
    usage: 'queue show [--stale-after 30m]',
    summary: 'queue depth, oldest queued task, stale and stranded running tasks',
    run: queueShow,
  },
  'design validate': {
    usage: 'design validate <ref | file | ->',
    summary: 'validate a site design; exit 0 when valid, 1 when not',
    run: designValidate,
  },
  purge: {
    usage: 'purge --days N',
    summary: 'delete finished task trees older than N days (never running ones)',
    run: purge,
  },
  console: {
    usage: 'console [--port N]',
    summary: 'serve the console on 127.0.0.1, its API calls signed as configured',
    run: runConsole,
  },
};

function help(): string {
  const lines = [
    `usage: ${GLOBAL_USAGE}`,
    '',
    'commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`),
    '',
    'connection: --url or DRYDOCK_URL (default http://127.0.0.1:3000); --auth defaults to sigv4',
    'for an execute-api host (credentials from the standard AWS chain, region from the host,',
    '--region or AWS_REGION), keystone when a token is given (--token, DRYDOCK_TOKEN, OS_TOKEN),',
    'none otherwise.',
    'exit codes: 0 ok, 1 task failed / design invalid, 2 usage, 3 not found, 4 refused,',
    '5 unauthorised, 6 wait timed out, 7 service unavailable, 70 internal error.',
  ];
  return lines.join('\n');
}

function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof ApiAnswerError) {
    if (error.status === 404) return EXIT.notFound;
    if (error.status === 401 || error.status === 403) return EXIT.unauthorised;
    if (error.status === 429 || error.status >= 500) return EXIT.unavailable;
    return EXIT.refused;
  }
  // fetch's network failures (refused, reset, DNS) are TypeErrors with a cause.
  if (error instanceof TypeError && 'cause' in error) return EXIT.unavailable;
  return EXIT.internal;
}

/** `console`: serves until interrupted (Ctrl-C), then exits 0. */
async function runConsole(ctx: CommandContext, connection: Connection): Promise<number> {
  const { createConsoleProxy } = await import('./console-proxy.ts');
  const { createStaticFiles } = await import('#infra/local/static-files.ts');
  const { prepareConsole } = await import('#infra/console/console-build.ts');
  const port = Number(ctx.options.port ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UsageError(`--port must be 0-65535 (got ${ctx.options.port})`);
  }
  const proxy = createConsoleProxy({
    connection,
    staticFiles: createStaticFiles({ root: prepareConsole((line) => ctx.out.note(line)) }),
  });
  const url = await proxy.listen(port);
  if (ctx.out.json) ctx.out.data({ url, api: connection.url, auth: connection.auth }, false);
  else {
    ctx.out.line(`console: ${url}/  (API ${connection.url}, auth ${connection.auth})`);
    ctx.out.note('Ctrl-C stops it.');
  }
  await new Promise<void>((resolve) => {
    const stop = () => proxy.server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.ok;
}

/** Each command's options, read from its usage line once. */
const COMMAND_OPTIONS: ReadonlyMap<string, Options> = new Map(
  Object.entries(COMMANDS).map(([name, command]) => [name, optionsOf(command.usage)]),
);

export async function main(argv: readonly string[]): Promise<number> {
  const allOptions: Options = { ...GLOBAL };
  for (const options of COMMAND_OPTIONS.values()) Object.assign(allOptions, options);
  let parsed: ReturnType<typeof parseArgs>;
  const out0 = new Output({ json: argv.includes('--json') });
  try {
    parsed = parseArgs({
      args: [...argv],
      options: allOptions,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (error) {
    out0.note(`drydock-state: ${(error as Error).message}\n\n${help()}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const name = [positionals.slice(0, 2).join(' '), positionals[0] ?? ''].find((n) => COMMANDS[n]);
  const out = new Output({ json: values.json === true });
  if (values.help === true || !name) {
    if (values.help === true) {
      out.line(help());
      return EXIT.ok;
    }
    out.note(
      positionals.length === 0
        ? help()
        : `drydock-state: unknown command '${positionals.join(' ')}'\n\n${help()}`,
    );
    return EXIT.usage;
  }
  const command = COMMANDS[name] as Command;
  const allowed = new Set([
    ...Object.keys(GLOBAL),
    ...Object.keys(COMMAND_OPTIONS.get(name) ?? {}),
  ]);
  const stray = Object.keys(values).filter((key) => !allowed.has(key));
  try {
    if (stray.length > 0) {
      throw new UsageError(`${name} takes no --${stray.join(', --')}; usage: ${command.usage}`);
    }
    const auth = values.auth as string | undefined;
    if (auth !== undefined && !['none', 'sigv4', 'keystone'].includes(auth)) {
      throw new UsageError(`--auth must be none, sigv4 or keystone (got ${auth})`);
    }
    const connection = connect({
      url: (values.url as string | undefined) ?? process.env.DRYDOCK_URL ?? 'http://127.0.0.1:3000',
      auth: auth as AuthMode | undefined,
      region: (values.region as string | undefined) ?? process.env.AWS_REGION,
      token:
        (values.token as string | undefined) ?? process.env.DRYDOCK_TOKEN ?? process.env.OS_TOKEN,
    });
    const ctx: CommandContext = {
      client: createApiClient({ baseUrl: connection.url, fetch: connection.fetch }),
      out,
      options: values,
      args: positionals.slice(name.split(' ').length),
      sleep: (ms) => sleep(ms),
    };
    return await command.run(ctx, connection);
  } catch (error) {
    out.endProgress();
    const code = exitCodeOf(error);
    const message =
      error instanceof ApiAnswerError || error instanceof UsageError
        ? error.message
        : code === EXIT.unavailable
          ? `the service did not answer: ${String((error as Error).cause ?? (error as Error).message)}`
          : String((error as Error).stack ?? error);
    out.note(`drydock-state: ${message}`);
    if (out.json && error instanceof ApiAnswerError) {
      out.data({ error: { status: error.status, body: error.body } }, false);
    }
    return code;
  }
}

process.exitCode = await main(process.argv.slice(2));
