import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { RenderedAsset } from './render.ts';

/**
 * Drydock's `BootactionUtils.tarbuilder`: a gzipped tar of the rendered assets, one regular file
 * per asset, named by its path as declared (absolute), with its mode (0600 when none), owner and
 * group 0. The modification time is the epoch (Python's `TarInfo` default), so the same assets
 * always give the same bytes.
 */
export async function buildTarball(assets: readonly RenderedAsset[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  for (const asset of assets) {
    await new Promise<void>((resolve, reject) => {
      tar.entry(
        {
          name: asset.path,
          size: asset.bytes.length,
          mode: asset.mode,
          uid: 0,
          gid: 0,
          uname: '',
          gname: '',
          mtime: new Date(0),
          type: 'file',
        },
        asset.bytes,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }
  tar.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
