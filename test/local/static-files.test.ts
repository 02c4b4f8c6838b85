import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticFiles, fileOf, isApiPath } from '#infra/local/static-files.ts';

/** A raw request: the path goes out exactly as written (fetch would normalise `..`). */
function get(port: number, path: string, method = 'GET') {
  return new Promise<{
    status: number;
    type: string | undefined;
    body: string;
    headers: Record<string, unknown>;
  }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          body,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static files for the console', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let rootReady: () => Promise<string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drydock-static-'));
    const site = join(dir, 'site');
    await mkdir(join(site, 'assets'), { recursive: true });
    await writeFile(join(site, 'index.html'), '<!doctype html><p>console</p>');
    await writeFile(join(site, 'assets', 'app-1a2b.js'), 'console.log(1)');
    await writeFile(join(site, 'assets', 'app-1a2b.css'), 'p{}');
    await writeFile(join(site, 'assets', 'logo.svg'), '<svg/>');
    await writeFile(join(site, '.build-digest'), 'abc');
    await writeFile(join(dir, 'secret.txt'), 'outside');
    await symlink(join(dir, 'secret.txt'), join(site, 'escape.txt'));
    rootReady = async () => site;
    const files = createStaticFiles({ root: () => rootReady() });
    server = createServer((req, res) => void files.serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the app with its content types, caching and security headers', async () => {
    const index = await get(port, '/');
    expect(index).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(index.body).toContain('console');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const js = await get(port, '/assets/app-1a2b.js');
    expect(js).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(port, '/assets/app-1a2b.css')).type).toBe('text/css; charset=utf-8');
    expect((await get(port, '/assets/logo.svg')).type).toBe('image/svg+xml');
    const head = await get(port, '/index.html', 'HEAD');
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe(String('<!doctype html><p>console</p>'.length));
  });

  it('refuses every spelling of a path out of the folder, dot-files and symlinks out', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%00index.html',
      '/index.html%00.js',
      '/%E0%A4%A.html',
      '/.build-digest',
      '/escape.txt',
      '/assets/',
      '/missing.js',
      '//etc/passwd',
    ]) {
      const answer = await get(port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain('outside');
    }
  });

  it('answers other methods with 405 and a missing build with 503', async () => {
    const post = await get(port, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const saved = rootReady;
    rootReady = () => Promise.reject(new Error('the build failed (npm run build:console)'));
    try {
      const down = await get(port, '/');
      expect(down.status).toBe(503);
      expect(down.body).toContain('npm run build:console');
    } finally {
      rootReady = saved;
    }
  });

  it('maps names inside the root only', () => {
    expect(fileOf('/srv/site', '/')).toBe('/srv/site/index.html');
    expect(fileOf('/srv/site', '/assets/a.js')).toBe('/srv/site/assets/a.js');
    expect(fileOf('/srv/site', '/a%20b.txt')).toBe('/srv/site/a b.txt');
    expect(fileOf('/srv/site', '/../x')).toBeNull();
    expect(fileOf('/srv/site', '/a/./b')).toBeNull();
  });

  it('leaves the API paths to the functions', () => {
    expect(isApiPath('/api/v1.0/tasks')).toBe(true);
    expect(isApiPath('/versions')).toBe(true);
    expect(isApiPath('/api')).toBe(true);
    expect(isApiPath('/')).toBe(false);
    expect(isApiPath('/apiary')).toBe(false);
    expect(isApiPath('/assets/api.js')).toBe(false);
  });
});
