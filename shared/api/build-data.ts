import type * as z from '#shared/zod.ts';
import type { Deps } from '../deps.ts';
import { withMeta } from '../store/bounds.ts';
import { postBuildData, queryBuildData } from '../store/build-data.ts';
import { bounds } from './bounds.ts';
import type { NewBuildDataSchema } from './schemas.ts';
import { type BuildDataDict, toBuildDataDict } from './shapes.ts';

type WireBuildData = z.Parsed<typeof NewBuildDataSchema>;

/**
 * Stores build data collected on a node, in one statement. Idempotency keys as for messages:
 * the item's own, else `<batchKey>:<index>`. Fenced by the orchestrator's `epoch` when given.
 */
export async function recordBuildData(
  deps: Pick<Deps, 'db'>,
  nodeName: string,
  items: readonly WireBuildData[],
  batchKey?: string,
  epoch?: number,
): Promise<{ inserted: BuildDataDict[]; duplicates: number }> {
  bounds.buildData(items);
  const result = await postBuildData(
    deps.db,
    items.map((item, i) => {
      const key = item.idempotency_key ?? (batchKey ? `${batchKey}:${i}` : undefined);
      return {
        nodeName,
        taskId: item.task_id,
        generator: item.generator,
        dataFormat: item.data_format,
        dataElement: item.data_element,
        ...(item.collected_date ? { collectedDate: item.collected_date } : {}),
        ...(key ? { idempotencyKey: key } : {}),
      };
    }),
    { epoch },
  );
  return { inserted: result.inserted.map(toBuildDataDict), duplicates: result.duplicates };
}

/**
 * A node's build data: by default the newest item per generator (the blueprint's default, which
 * Drydock's API contradicted, defect 4); with `latest=false` every item, newest first. Within one
 * read's budget; `nextCursor` continues the list.
 */
export async function readNodeBuildData(
  deps: Pick<Deps, 'db'>,
  nodeName: string,
  options: {
    latest?: boolean | undefined;
    task_id?: string | undefined;
    verbosity?: number | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
): Promise<BuildDataDict[] & { nextCursor: string | null }> {
  const items = await queryBuildData(deps.db, {
    nodeName,
    ...(options.task_id ? { taskId: options.task_id } : {}),
    latest: options.latest ?? true,
    verbosity: options.verbosity === 1 ? 1 : 2,
    ...(options.limit ? { limit: options.limit } : {}),
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  return withMeta(items.map(toBuildDataDict), { nextCursor: items.nextCursor });
}
