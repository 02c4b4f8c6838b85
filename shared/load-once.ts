/**
 * A loader called once and kept: the first call starts `load`, every later call gets the same
 * promise (settled after the first, so an `await` costs a microtask). A failed load is forgotten
 * and the next call tries again. For modules a Lambda should not evaluate at init: the dynamic
 * `import()` makes esbuild put them in a chunk of their own, loaded by the first request that
 * needs them.
 *
 * @example const tasksApi = loadOnce(() => import('../../api/tasks.ts'));
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    if (!loaded) {
      loaded = load();
      loaded.catch(() => {
        loaded = undefined;
      });
    }
    return loaded;
  };
}
