import { describe, expect, it } from 'vitest';
import { optionsOf } from '#infra/cli/main.ts';

/** The parser's options come from the usage lines the help prints: each form of the syntax. */
describe("the command line's options, read from usage lines", () => {
  it('takes a value after --name VALUE or --name <value>, and none after a bare --name', () => {
    expect(optionsOf('tasks list [--status S] [--since 1d] [--all] [--limit N]')).toEqual({
      status: { type: 'string' },
      since: { type: 'string' },
      all: { type: 'boolean' },
      limit: { type: 'string' },
    });
    expect(optionsOf('builddata node <name> [--task <task-id>] [--data]')).toEqual({
      task: { type: 'string' },
      data: { type: 'boolean' },
    });
  });

  it('reads a short form, a negation, a repeatable option and a value with bars', () => {
    expect(optionsOf('messages tail <task-id> [-f|--follow] [--after N]')).toEqual({
      follow: { type: 'boolean', short: 'f' },
      after: { type: 'string' },
    });
    expect(optionsOf('tasks terminate <task-id> [--no-recursive]')).toEqual({
      recursive: { type: 'boolean' },
    });
    expect(
      optionsOf('tasks create <action> --design-ref <ref> [--node <name>]… [--idempotency-key K]'),
    ).toEqual({
      'design-ref': { type: 'string' },
      node: { type: 'string', multiple: true },
      'idempotency-key': { type: 'string' },
    });
    expect(optionsOf('x [--auth none|sigv4|keystone] [-h|--help]')).toEqual({
      auth: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
  });

  it('finds no option in arguments, a lone dash included', () => {
    expect(optionsOf('design validate <ref | file | ->')).toEqual({});
    expect(optionsOf('lease show')).toEqual({});
  });
});
