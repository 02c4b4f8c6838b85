/**
 * Route metadata and its enforcement in the HTTP kit: every route names a registered rule or is
 * one of the public probes, and a Keystone caller is held to the route's rule (and to the action's
 * rule on POST /tasks) through the one error mapping, while IAM callers are not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHttpFunctions } from '#infra/local/functions.ts';
import { authorizerContextOf, type KeystonePrincipal } from '#shared/auth/principal.ts';
import { RULE_NAMES, type RuleName } from '#shared/auth/rules.ts';
import { sql, statement } from '#shared/db/sql.ts';
import {
  type ApiRequest,
  answer,
  apiEvent,
  type LoadedService,
  lambdaContext,
  loadService,
  TEST_PRINCIPAL,
} from '#test/functions/harness.ts';
import { TEST_DRIVERS, type TestDriver } from '#test/support/test-db.ts';

const DESIGN = 'deckhand+https://deckhand.example/api/v1.0/revisions/7/rendered-documents';

/** What the Keystone authoriser puts in `requestContext.authorizer` for this caller. */
function keystoneContext(user: string, granted: RuleName[]): Record<string, string> {
  const principal: KeystonePrincipal = {
    user,
    userId: `u-${user}`,
    userDomainId: 'default',
    projectId: 'p-ops',
    projectName: 'ops',
    projectDomainId: 'default',
    domainId: null,
    roles: ['operator'],
    isAdminProject: false,
    granted: new Set(granted),
  };
  return { ...authorizerContextOf(principal), principalId: principal.userId };
}

describe('route policies', () => {
  it('names a registered rule on every route but the public probes', async () => {
    const routes = (await loadHttpFunctions()).flatMap((fn) => fn.routes);
    const publicRoutes = routes.filter((route) => route.policy === undefined);
    // The probes, and the node-facing boot-action routes: nodes authenticate with their key.
    expect(publicRoutes.map((route) => `${route.method} ${route.path}`).sort()).toEqual([
      'GET /api/v1.0/bootactions/nodes/{hostname}/files',
      'GET /api/v1.0/bootactions/nodes/{hostname}/units',
      'GET /api/v1.0/health',
      'GET /versions',
      'POST /api/v1.0/bootactions/{action_id}',
    ]);
    expect(publicRoutes.filter((route) => route.path.includes('/bootactions/'))).toSatisfy(
      (node: typeof routes) => node.every((route) => route.authenticate !== undefined),
    );
    for (const route of routes) {
      if (route.policy) expect(RULE_NAMES).toContain(route.policy);
    }
    const byOperation = Object.fromEntries(routes.map((r) => [r.operationId, r.policy]));
    // Drydock's own mapping (policy.py and the control/ resources) for the routes it has.
    expect(byOperation).toMatchObject({
      listTasks: 'physical_provisioner:read_task',
      getTask: 'physical_provisioner:read_task',
      createTask: 'physical_provisioner:create_task',
      purgeTasks: 'physical_provisioner:delete_tasks',
      getTaskBuildData: 'physical_provisioner:read_build_data',
      getNodeBuildData: 'physical_provisioner:read_build_data',
      validateDesign: 'physical_provisioner:validate_site_design',
      healthExtended: 'physical_provisioner:health_data',
    });
  });
});

describe('the HTTP kit holds Keystone callers to the rules', () => {
  let service: LoadedService;
  const call = async (request: ApiRequest) =>
    answer(await service.fns.tasks.handler(apiEvent(request), lambdaContext('drydock-tasks')));

  beforeAll(async () => {
    // Authorisation does not depend on the driver: the quickest one available.
    service = await loadService(TEST_DRIVERS[0] as TestDriver);
  });
  afterAll(async () => {
    await service?.close();
  });

  it('checks the route rule, then the action rule of POST /tasks, with Drydock 403 bodies', async () => {
    const operator = keystoneContext('operator', [
      'physical_provisioner:create_task',
      'physical_provisioner:verify_site',
    ]);
    const created = await call({
      method: 'POST',
      path: '/api/v1.0/tasks',
      authorizer: operator,
      body: { action: 'verify_site', design_ref: DESIGN },
    });
    expect(created.status).toBe(201);
    expect(created.body.created_by).toBe('operator');
    const [stored] = await service.db.query(
      statement(
        { ctx: 'json' },
        sql`select request_context as "ctx" from tasks where task_id = ${created.body.task_id}::uuid`,
      ),
    );
    expect(stored?.ctx).toMatchObject({
      principal: 'operator',
      auth: 'keystone',
      user_id: 'u-operator',
      project_id: 'p-ops',
      roles: ['operator'],
      is_admin_project: false,
    });
    expect(JSON.stringify(stored?.ctx)).not.toContain('granted');

    const deploy = await call({
      method: 'POST',
      path: '/api/v1.0/tasks',
      authorizer: operator,
      body: { action: 'deploy_nodes', design_ref: DESIGN },
    });
    expect(deploy).toMatchObject({
      status: 403,
      body: {
        type: 'error',
        message:
          'Forbidden: the policy rule physical_provisioner:deploy_nodes does not allow this caller.',
        retry: false,
      },
    });
    // The route's rule comes before the body, as in Drydock: a bad body is still a 403.
    const list = await call({ method: 'GET', path: '/api/v1.0/tasks', authorizer: operator });
    expect(list.status).toBe(403);
    expect(list.body.message).toContain('physical_provisioner:read_task');
    const badBody = await call({
      method: 'DELETE',
      path: '/api/v1.0/tasks',
      query: { days: 'many' },
      authorizer: operator,
    });
    expect(badBody.status).toBe(403);
    // Nothing was written by the refused requests.
    const [count] = await service.db.query(
      statement({ n: 'int' }, sql`select count(*)::int as "n" from tasks`),
    );
    expect(count?.n).toBe(1);
  });

  it('leaves IAM callers to IAM and public routes to everyone', async () => {
    const iam = await call({
      method: 'POST',
      path: '/api/v1.0/tasks',
      body: { action: 'deploy_nodes', design_ref: DESIGN },
    });
    expect(iam.status).toBe(201);
    expect(iam.body.created_by).toBe(TEST_PRINCIPAL);
    const health = answer(
      await service.fns.health.handler(
        apiEvent({
          method: 'GET',
          path: '/api/v1.0/health',
          authorizer: keystoneContext('nobody', []),
        }),
        lambdaContext('drydock-health'),
      ),
    );
    expect(health.status).toBe(204);
  });

  it('fails closed on a Keystone context it cannot read', async () => {
    const { user: _dropped, ...broken } = keystoneContext('operator', [...RULE_NAMES]);
    const res = await call({ method: 'GET', path: '/api/v1.0/tasks', authorizer: broken });
    expect(res.status).toBe(500);
  });
});
