/**
 * A Keystone v3 stand-in over real HTTP, for the tests and for trying `npm start` with tokens:
 * password and token sign-in with project or domain scope (`POST /v3/auth/tokens`, the token in
 * `X-Subject-Token`, the catalog unless `?nocatalog`), validation (`GET`/`HEAD /v3/auth/tokens`,
 * allowed to tokens holding the `service` or `admin` role), revocation (`DELETE`), version
 * discovery (`GET /v3`). Expiry follows the injected clock, so tests move time without sleeping.
 *
 * Run it by hand: `node test/support/keystone-stand-in.ts [port] [drydock-url]` prints the users.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** A user of the stand-in and its role assignments, per project name (or `domain:<name>`). */
export interface StandInUser {
  readonly name: string;
  readonly password: string;
  readonly id?: string;
  readonly domain?: string;
  readonly roles: Readonly<Record<string, readonly string[]>>;
}

interface Issued {
  readonly userName: string;
  readonly scope: { kind: 'project'; name: string } | { kind: 'domain'; name: string } | null;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly methods: readonly string[];
  readonly isAdminProject: boolean | undefined;
}

/** Options of {@link startKeystoneStandIn}. */
export interface KeystoneStandInOptions {
  readonly users: readonly StandInUser[];
  /** Epoch milliseconds; tokens expire on this clock. @default Date.now */
  readonly now?: () => number;
  /** @default one hour */
  readonly tokenLifetimeMs?: number;
  /** Catalog endpoints by service type (`physicalprovisioner` → the Drydock API URL). */
  readonly catalog?: Readonly<Record<string, string>>;
  /** @default 0 (a free port) */
  readonly port?: number;
}

/** How the stand-in misbehaves on purpose. */
export type StandInFailure = 'none' | 'error' | 'hang' | 'garbage';

/** A running stand-in with its controls and counters. */
export interface KeystoneStandIn {
  /** `http://127.0.0.1:<port>/v3` */
  readonly url: string;
  readonly origin: string;
  /** Issues a token without HTTP (what a user's own sign-in would give them). */
  issue(
    userName: string,
    scope?: { project?: string; domain?: string },
    options?: { lifetimeMs?: number; isAdminProject?: boolean },
  ): string;
  revoke(token: string): void;
  /** Makes every later answer fail as asked (`error`: HTTP 500, `hang`: never answer). */
  fail(mode: StandInFailure): void;
  /** Requests seen, by kind. */
  readonly counts: { signIns: number; validations: number };
  /** Every request it received (method, path, headers), to check what the service sent. */
  readonly seen: {
    method: string;
    path: string;
    query: string;
    headers: IncomingMessage['headers'];
  }[];
  close(): Promise<void>;
}

const DOMAIN = { id: 'default', name: 'Default' };

/** Starts the stand-in on 127.0.0.1. */
export async function startKeystoneStandIn(
  options: KeystoneStandInOptions,
): Promise<KeystoneStandIn> {
  const now = options.now ?? Date.now;
  const lifetime = options.tokenLifetimeMs ?? 60 * 60_000;
  const tokens = new Map<string, Issued>();
  const counts = { signIns: 0, validations: 0 };
  const seen: KeystoneStandIn['seen'] = [];
  let failure: StandInFailure = 'none';
  const users = new Map(options.users.map((user) => [user.name, user]));
  const userId = (user: StandInUser) => user.id ?? `u-${user.name}`;
  const projectId = (name: string) => `p-${name}`;
  const roleId = (name: string) => `r-${name}`;

  const issue = (
    userName: string,
    scope: { project?: string; domain?: string } = {},
    extra: { lifetimeMs?: number; isAdminProject?: boolean; methods?: string[] } = {},
  ): string => {
    if (!users.has(userName)) throw new Error(`no user ${userName}`);
    const token = `gAAAAA${randomBytes(96).toString('base64url')}`;
    tokens.set(token, {
      userName,
      scope: scope.project
        ? { kind: 'project', name: scope.project }
        : scope.domain
          ? { kind: 'domain', name: scope.domain }
          : null,
      issuedAt: now(),
      expiresAt: now() + (extra.lifetimeMs ?? lifetime),
      methods: extra.methods ?? ['password'],
      isAdminProject: extra.isAdminProject,
    });
    return token;
  };

  const live = (token: string | undefined): Issued | undefined => {
    const issued = token === undefined ? undefined : tokens.get(token);
    return issued && now() < issued.expiresAt ? issued : undefined;
  };

  const rolesOf = (issued: Issued): string[] => {
    const user = users.get(issued.userName) as StandInUser;
    if (!issued.scope) return [];
    const key = issued.scope.kind === 'domain' ? `domain:${issued.scope.name}` : issued.scope.name;
    return [...(user.roles[key] ?? [])];
  };

  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

  const tokenBody = (issued: Issued, withCatalog: boolean) => {
    const user = users.get(issued.userName) as StandInUser;
    const catalog = Object.entries(options.catalog ?? {}).map(([type, url]) => ({
      id: `s-${type}`,
      type,
      name: type,
      endpoints: ['public', 'internal', 'admin'].map((iface) => ({
        id: `e-${type}-${iface}`,
        interface: iface,
        region: 'RegionOne',
        region_id: 'RegionOne',
        url,
      })),
    }));
    return {
      token: {
        methods: issued.methods,
        user: {
          id: userId(user),
          name: user.name,
          domain: DOMAIN,
          password_expires_at: null,
        },
        audit_ids: [randomUUID().slice(0, 22)],
        expires_at: iso(issued.expiresAt),
        issued_at: iso(issued.issuedAt),
        ...(issued.scope?.kind === 'project'
          ? {
              project: {
                id: projectId(issued.scope.name),
                name: issued.scope.name,
                domain: DOMAIN,
              },
              is_domain: false,
            }
          : {}),
        ...(issued.scope?.kind === 'domain' ? { domain: DOMAIN } : {}),
        ...(issued.isAdminProject === undefined ? {} : { is_admin_project: issued.isAdminProject }),
        roles: rolesOf(issued).map((name) => ({ id: roleId(name), name })),
        ...(withCatalog && issued.scope ? { catalog } : {}),
      },
    };
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, code: number, title: string, message: string) =>
    json(res, code, { error: { code, title, message } });

  const signIn = (req: IncomingMessage, body: string, res: ServerResponse, catalog: boolean) => {
    counts.signIns += 1;
    let auth: {
      identity?: {
        methods?: string[];
        password?: { user?: { name?: string; id?: string; password?: string } };
        token?: { id?: string };
      };
      scope?: { project?: { name?: string; id?: string }; domain?: { name?: string } };
    };
    try {
      auth = (JSON.parse(body) as { auth: typeof auth }).auth;
    } catch {
      error(res, 400, 'Bad Request', 'Expecting to find auth in request body.');
      return;
    }
    let userName: string | undefined;
    const methods = auth.identity?.methods ?? [];
    if (methods.includes('password')) {
      const given = auth.identity?.password?.user;
      const user = [...users.values()].find(
        (u) => u.name === given?.name || (given?.id !== undefined && userId(u) === given.id),
      );
      if (user && user.password === given?.password) userName = user.name;
    } else if (methods.includes('token')) {
      userName = live(
        auth.identity?.token?.id ?? req.headers['x-auth-token']?.toString(),
      )?.userName;
    }
    if (userName === undefined) {
      error(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
      return;
    }
    const project =
      auth.scope?.project?.name ??
      (auth.scope?.project?.id ? auth.scope.project.id.replace(/^p-/, '') : undefined);
    const domain = auth.scope?.domain?.name;
    const user = users.get(userName) as StandInUser;
    if (project !== undefined && !(project in user.roles)) {
      error(res, 401, 'Unauthorized', 'User has no access to project');
      return;
    }
    const token = issue(userName, project ? { project } : domain ? { domain } : {}, { methods });
    json(res, 201, tokenBody(tokens.get(token) as Issued, catalog), { 'X-Subject-Token': token });
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      seen.push({
        method: req.method ?? '',
        path: url.pathname,
        query: url.search,
        headers: req.headers,
      });
      if (failure === 'hang') return;
      if (failure === 'error') {
        error(res, 500, 'Internal Server Error', 'An unexpected error prevented the server.');
        return;
      }
      if (failure === 'garbage') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>proxy error</html>');
        return;
      }
      const path = url.pathname.replace(/\/+$/, '');
      const catalog = !url.searchParams.has('nocatalog');
      if (req.method === 'GET' && (path === '' || path === '/v3')) {
        json(res, 200, {
          version: {
            id: 'v3.14',
            status: 'stable',
            updated: '2020-04-07T00:00:00Z',
            links: [{ rel: 'self', href: `${origin}/v3/` }],
            media_types: [
              { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
            ],
          },
        });
        return;
      }
      if (path !== '/v3/auth/tokens') {
        error(res, 404, 'Not Found', 'The resource could not be found.');
        return;
      }
      if (req.method === 'POST') {
        signIn(req, Buffer.concat(chunks).toString('utf8'), res, catalog);
        return;
      }
      const caller = live(req.headers['x-auth-token']?.toString());
      if (!caller) {
        error(res, 401, 'Unauthorized', 'The request you have made requires authentication.');
        return;
      }
      const subjectToken = req.headers['x-subject-token']?.toString();
      if (req.method === 'DELETE') {
        if (subjectToken) tokens.delete(subjectToken);
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        counts.validations += 1;
        // Keystone's identity:validate_token policy: the service role, admin, or one's own token.
        const roles = rolesOf(caller);
        if (
          !roles.includes('service') &&
          !roles.includes('admin') &&
          subjectToken !== req.headers['x-auth-token']
        ) {
          error(res, 403, 'Forbidden', 'You are not authorized to perform the requested action.');
          return;
        }
        const subject = live(subjectToken);
        if (!subject || subjectToken === undefined) {
          error(res, 404, 'Not Found', 'Could not find token.');
          return;
        }
        json(res, 200, tokenBody(subject, catalog), { 'X-Subject-Token': subjectToken });
        return;
      }
      error(res, 405, 'Method Not Allowed', 'Method not allowed.');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/v3`,
    origin,
    issue: (userName, scope, extra) => issue(userName, scope, extra),
    revoke: (token) => {
      tokens.delete(token);
    },
    fail: (mode) => {
      failure = mode;
    },
    counts,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The users of a typical deployment: an operator, a read-only user and the service itself. */
export const STAND_IN_USERS: readonly StandInUser[] = [
  { name: 'admin', password: 'admin-password', roles: { admin: ['admin'] } },
  { name: 'reader', password: 'reader-password', roles: { admin: ['reader'] } },
  { name: 'drydock', password: 'drydock-password', roles: { service: ['service'] } },
];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port = '5000', drydockUrl] = process.argv.slice(2);
  const keystone = await startKeystoneStandIn({
    users: STAND_IN_USERS,
    port: Number(port),
    ...(drydockUrl ? { catalog: { physicalprovisioner: drydockUrl } } : {}),
  });
  console.log(`Keystone stand-in on ${keystone.url}`);
  for (const user of STAND_IN_USERS) {
    console.log(`  ${user.name} / ${user.password}: ${JSON.stringify(user.roles)}`);
  }
  console.log(
    `service credentials for KEYSTONE_SECRET_FILE: {"username":"drydock","password":"drydock-password","project_name":"service"}`,
  );
}
