import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DesignRef } from './design-ref.ts';
import { DesignRefError } from './errors.ts';

/**
 * Reads `file://` references, confined to configured root folders. The path is first checked
 * as written (after URL normalisation, which folds `..` and `%2e%2e`), then again after every
 * symlink is resolved, so neither traversal nor a link pointing out of a root escapes.
 *
 * Checking a path and then opening it by name is a race: a folder on the checked path can be
 * swapped for a symlink to the outside in between, and `open` follows it. Node has no `openat`,
 * so the opened handle itself is verified before a byte is read (`openedInside`): where the
 * kernel says the handle's file is must lie inside a root. A handle that fails this is closed
 * unread, so whatever an attacker swaps, the bytes returned come from a file inside a root.
 *
 * Non-regular files (FIFOs, devices, sockets) are refused from `lstat` before opening, and
 * the open itself is non-blocking: a FIFO swapped in at the last moment cannot hold a libuv
 * thread (and with it every other file read and DNS lookup) waiting for a writer. The handle is
 * always closed (Drydock leaked it, defect 35).
 */
export function createFileDriver(options: { roots: readonly string[]; maxBytes: number }) {
  let realRoots: Promise<string[]> | undefined;
  const roots = options.roots.map((r) => resolve(r));
  for (const r of options.roots) {
    if (!isAbsolute(r)) throw new Error(`DESIGN_FILE_ROOTS entries must be absolute: ${r}`);
  }
  const within = (path: string, bases: readonly string[]) =>
    bases.some((base) => insideOf(base, path));

  return async (ref: DesignRef): Promise<Buffer> => {
    if (roots.length === 0) {
      throw new DesignRefError(
        'refused',
        'file:// design references are disabled: set DESIGN_FILE_ROOTS to the folders they may read',
      );
    }
    const outside = () =>
      new DesignRefError(
        'refused',
        `${ref.redacted} is outside the folders configured in DESIGN_FILE_ROOTS`,
      );
    const notRegular = () => new DesignRefError('refused', `${ref.redacted} is not a regular file`);
    let path: string;
    try {
      path = fileURLToPath(ref.url);
    } catch {
      // e.g. an encoded '/' (%2F) in a segment, which could otherwise hide a separator.
      throw new DesignRefError('refused', `${ref.redacted} is not a usable file path`);
    }
    if (!within(path, roots)) throw outside();
    // Roots are resolved lazily so a root created after start-up still works; a missing root
    // simply matches nothing.
    realRoots ??= Promise.all(roots.map((r) => realpath(r).catch(() => r)));
    const bases = await realRoots;
    /** The path with every link resolved, refused unless it is inside a root. */
    const resolveInside = async () => {
      const real = await realpath(path);
      if (!within(real, bases)) throw outside();
      return real;
    };
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      const real = await resolveInside();
      if (!(await lstat(real)).isFile()) throw notRegular();
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      const stat = await handle.stat();
      if (!stat.isFile()) throw notRegular();
      if (!(await openedInside(handle, stat, bases, resolveInside))) {
        throw new DesignRefError(
          'refused',
          `${ref.redacted} changed while it was being opened (a folder or link on its path was replaced); not read`,
        );
      }
      if (stat.size > options.maxBytes) {
        throw new DesignRefError(
          'too_large',
          `${ref.redacted}: the design is larger than ${options.maxBytes} bytes (DESIGN_MAX_BYTES)`,
        );
      }
      // Read to the end rather than trusting stat: the file may grow in between.
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const chunk = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > options.maxBytes) {
          throw new DesignRefError(
            'too_large',
            `${ref.redacted}: the design is larger than ${options.maxBytes} bytes (DESIGN_MAX_BYTES)`,
          );
        }
        chunks.push(chunk.subarray(0, bytesRead));
      }
      return Buffer.concat(chunks, total);
    } catch (error) {
      if (error instanceof DesignRefError) throw error;
      throw fsError(error, ref.redacted);
    } finally {
      await handle?.close();
    }
  };
}

/**
 * Whether an opened handle's file lies inside a root. On Linux (Lambda included) the kernel
 * names the file a descriptor holds, `/proc/self/fd/<fd>`, which no rename or symlink swap after
 * the open can change: the answer is about the handle, not about a path resolved again (which
 * would race like the first check). Without `/proc` (macOS development machines) it falls back
 * to resolving the path again and comparing device and inode with the handle's, which narrows
 * the window but cannot close it.
 */
async function openedInside(
  handle: FileHandle,
  stat: Stats,
  bases: readonly string[],
  resolveInside: () => Promise<string>,
): Promise<boolean> {
  let where: string | undefined;
  try {
    where = await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    where = undefined;
  }
  if (where !== undefined) {
    return where.startsWith('/') && bases.some((base) => insideOf(base, where));
  }
  const now = await lstat(await resolveInside());
  return now.dev === stat.dev && now.ino === stat.ino;
}

function insideOf(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function fsError(error: unknown, shown: string): DesignRefError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new DesignRefError('not_found', `${shown}: no such file`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') {
    return new DesignRefError('refused', `${shown}: the service may not read this file (${code})`);
  }
  if (code === 'EISDIR') return new DesignRefError('refused', `${shown} is not a regular file`);
  // A path Node refuses before the system sees it (an embedded NUL): the caller's mistake.
  if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ERR_INVALID_ARG_TYPE') {
    return new DesignRefError('refused', `${shown} is not a usable file path`);
  }
  return new DesignRefError(
    'unavailable',
    `${shown}: could not read the file (${code ?? 'error'})`,
    {
      cause: error,
    },
  );
}
