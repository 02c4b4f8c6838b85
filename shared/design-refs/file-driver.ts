import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DesignRef } from './design-ref.ts';
import { DesignRefError } from './errors.ts';

/**
 * Reads `file://` references, confined to configured root folders. The path is first checked
 * as written (after URL normalisation, which folds `..` and `%2e%2e`), then again after every
 * symlink is resolved, so neither traversal nor a link pointing out of a root escapes. The file
 * is opened without following a final symlink, checked to be a regular file under the cap, and
 * always closed (Drydock leaked the handle, defect 35).
 */
export function createFileDriver(options: { roots: readonly string[]; maxBytes: number }) {
  let realRoots: Promise<string[]> | undefined;
  const roots = options.roots.map((r) => resolve(r));
  for (const r of options.roots) {
    if (!isAbsolute(r)) throw new Error(`DESIGN_FILE_ROOTS entries must be absolute: ${r}`);
  }
  const within = (path: string, bases: readonly string[]) =>
    bases.some((base) => {
      const rel = relative(base, path);
      return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
    });

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
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      throw fsError(error, ref.redacted);
    }
    if (!within(real, await realRoots)) throw outside();
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
      const stat = await handle.stat();
      if (!stat.isFile()) {
        throw new DesignRefError('refused', `${ref.redacted} is not a regular file`);
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

function fsError(error: unknown, shown: string): DesignRefError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new DesignRefError('not_found', `${shown}: no such file`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') {
    return new DesignRefError('refused', `${shown}: the service may not read this file (${code})`);
  }
  if (code === 'EISDIR') return new DesignRefError('refused', `${shown} is not a regular file`);
  return new DesignRefError(
    'unavailable',
    `${shown}: could not read the file (${code ?? 'error'})`,
    {
      cause: error,
    },
  );
}
