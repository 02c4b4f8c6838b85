/**
 * A deploy as Drydock's orchestrator drives it, through the HTTP API only: take the lease, claim
 * a `deploy_nodes` task, register a `deploy_node` subtask per node, report messages, lshw build
 * data and results, roll up. The console and CLI tests follow it as it happens; the screenshot
 * script uses it to fill a local server.
 */

export type ApiCall = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked where they are used
  body: any;
}>;

/** A JSON call against `base` that throws on anything but the expected statuses. */
export function apiCaller(base: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${base}/api/v1.0${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed = text === '' ? undefined : JSON.parse(text);
    if (res.status >= 400) {
      throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    }
    return { status: res.status, body: parsed };
  };
}

export const DESIGN_REF =
  'deckhand+https://deckhand.example.com/api/v1.0/revisions/42/rendered-documents';

/** An lshw-like XML dump; `revision` changes a few lines so two runs differ. */
export function lshwXml(node: string, revision: number): string {
  return [
    '<?xml version="1.0" standalone="yes" ?>',
    '<list>',
    `<node id="${node}" claimed="true" class="system">`,
    ` <description>Rack Mount Chassis</description>`,
    ` <product>ProLiant DL380 Gen10</product>`,
    ` <serial>CZ${node.replace(/\D/g, '').padStart(8, '0')}</serial>`,
    ` <node id="firmware" class="memory"><version>U30 v2.${40 + revision}</version></node>`,
    ` <node id="memory" class="memory"><size units="bytes">${(256 + revision * 128) * 1024 ** 3}</size></node>`,
    ...Array.from(
      { length: 2 + revision },
      (_, i) =>
        ` <node id="disk:${i}" class="disk"><product>MZ7LH960</product><size units="bytes">960197124096</size></node>`,
    ),
    ` <node id="network:0" class="network"><logicalname>eno1</logicalname><serial>3c:fd:fe:00:${String(revision).padStart(2, '0')}:01</serial></node>`,
    '</node>',
    '</list>',
  ].join('\n');
}

/** The orchestrator's side of one deploy, step by step, so a test can look between steps. */
export class DeployFlow {
  readonly call: ApiCall;
  readonly instanceId: string;
  epoch = 0;
  taskId = '';
  readonly subtasks = new Map<string, string>();

  constructor(base: string, instanceId = 'orch-demo') {
    this.call = apiCaller(base);
    this.instanceId = instanceId;
  }

  /** Takes the lease (a fresh local server holds none for another instance long). */
  async lead(): Promise<number> {
    const lease = await this.call('POST', '/leader/claim', { instance_id: this.instanceId });
    if (!lease.body.held) throw new Error(`the lease is held by ${lease.body.holder}`);
    this.epoch = lease.body.epoch;
    return this.epoch;
  }

  /** An operator's deploy_nodes request for `nodes`, then claimed by this orchestrator. */
  async start(nodes: readonly string[]): Promise<string> {
    const created = await this.call('POST', '/tasks', {
      action: 'deploy_nodes',
      design_ref: DESIGN_REF,
      node_filter: {
        filter_set_type: 'union',
        filter_set: [{ filter_type: 'union', node_names: [...nodes] }],
      },
    });
    this.taskId = created.body.task_id;
    await this.claim(this.taskId);
    await this.message(this.taskId, 'Starting deploy_nodes', false, 'task', this.taskId);
    return this.taskId;
  }

  /** Claims queued tasks until `taskId` is among them (older queued tasks are claimed too). */
  async claim(taskId: string): Promise<void> {
    for (let i = 0; i < 100; i += 1) {
      const claimed = await this.call('POST', '/tasks/claim', {
        instance_id: this.instanceId,
        epoch: this.epoch,
        limit: 100,
      });
      if ((claimed.body as { task_id: string }[]).some((t) => t.task_id === taskId)) return;
      if (claimed.body.length === 0) throw new Error(`task ${taskId} was not claimable`);
    }
  }

  /**
   * A deploy whose tree is larger than one answer of the API holds: `subtasks` subtasks, each
   * with a node filter of 45 names of 1,000 characters (about 45 kB a task, under the 48 KiB a
   * filter may hold), so the tasks alone pass a tree read's 512 KiB by the twelfth. Returns the
   * root's id.
   */
  async startWide(subtasks: number): Promise<string> {
    const taskId = await this.start(['wide-00']);
    for (let i = 0; i < subtasks; i += 1) {
      const names = Array.from({ length: 45 }, (_, k) => `wide-${i}-${k}-`.padEnd(1000, 'x'));
      await this.call('POST', `/tasks/${taskId}/subtasks`, {
        action: 'deploy_node',
        epoch: this.epoch,
        node_filter: {
          filter_set_type: 'union',
          filter_set: [{ filter_type: 'union', node_names: names }],
        },
      });
    }
    return taskId;
  }

  /** Registers a deploy_node subtask for a node and starts it. */
  async startNode(node: string): Promise<string> {
    const sub = await this.call('POST', `/tasks/${this.taskId}/subtasks`, {
      action: 'deploy_node',
      epoch: this.epoch,
      node_filter: {
        filter_set_type: 'union',
        filter_set: [{ filter_type: 'union', node_names: [node] }],
      },
    });
    const id: string = sub.body.task_id;
    this.subtasks.set(node, id);
    await this.call('PATCH', `/tasks/${id}`, { status: 'running', epoch: this.epoch });
    return id;
  }

  async message(
    taskId: string,
    message: string,
    error: boolean,
    contextType = 'node',
    context = 'n/a',
  ): Promise<void> {
    // The orchestrator's append, fenced by its epoch.
    await this.call('POST', `/tasks/${taskId}/messages`, {
      epoch: this.epoch,
      messages: [{ message, error, context_type: contextType, context }],
    });
  }

  /** An lshw run for a node, recorded under its subtask. */
  async lshw(node: string, revision: number, collectedDate?: string): Promise<void> {
    const taskId = this.subtasks.get(node) ?? this.taskId;
    await this.call('POST', `/nodes/${node}/builddata`, {
      epoch: this.epoch,
      items: [
        {
          task_id: taskId,
          generator: 'lshw',
          data_format: 'text/xml',
          data_element: lshwXml(node, revision),
          ...(collectedDate ? { collected_date: collectedDate } : {}),
        },
      ],
    });
  }

  /** Finishes a node's subtask: success, or failure with an error message. */
  async finishNode(node: string, ok: boolean): Promise<void> {
    const id = this.subtasks.get(node);
    if (!id) throw new Error(`no subtask for ${node}`);
    await this.message(
      id,
      ok ? `Node ${node} deployed` : `Node ${node} failed to deploy: PXE boot timed out`,
      !ok,
      'node',
      node,
    );
    await this.call('PATCH', `/tasks/${id}`, {
      status: 'complete',
      epoch: this.epoch,
      result: {
        status: ok ? 'success' : 'failure',
        ...(ok ? { add_successes: [node] } : { add_failures: [node] }),
      },
    });
  }

  /** Rolls the subtasks' results up and completes the deploy. */
  async finish(): Promise<void> {
    await this.call('POST', `/tasks/${this.taskId}/rollup`, { epoch: this.epoch });
    await this.call('PATCH', `/tasks/${this.taskId}`, {
      status: 'complete',
      epoch: this.epoch,
      result: {
        message: 'Deploy finished',
        add_links: [{ rel: 'detail_logs', href: 'https://logs.example.com/deploy/42' }],
      },
    });
  }

  /** A whole deploy of `nodes` at once; nodes in `failing` fail. */
  async run(
    nodes: readonly string[],
    options: { failing?: readonly string[]; finish?: boolean; lshw?: boolean } = {},
  ) {
    if (this.epoch === 0) await this.lead();
    await this.start(nodes);
    const failing = new Set(options.failing ?? []);
    for (const node of nodes) {
      const id = await this.startNode(node);
      await this.call('POST', `/tasks/${id}/messages`, {
        epoch: this.epoch,
        messages: [
          { message: `Power cycling ${node}`, error: false, context_type: 'node', context: node },
          {
            message: `${node} booted the installer`,
            error: false,
            context_type: 'node',
            context: node,
          },
        ],
      });
      if (options.lshw !== false) await this.lshw(node, 0);
      await this.finishNode(node, !failing.has(node));
    }
    if (options.finish !== false) await this.finish();
    return this.taskId;
  }
}
