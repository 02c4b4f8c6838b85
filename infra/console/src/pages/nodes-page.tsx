import { useState } from 'preact/hooks';
import type { BuildData } from '#shared/client/api-client.ts';
import { api } from '../api.ts';
import { LoadError, When } from '../components/badges.tsx';
import { plural, shortId } from '../format.ts';
import { useLive, useNow } from '../live.ts';
import { href } from '../router.ts';

const HISTORY_LIMIT = 1000;

const keyOf = (item: BuildData) => `${item.generator}|${item.collected_date}|${item.task_id}`;

/** One item's payload: the node's items under that task (few), matched by generator and time. */
async function loadPayload(nodeName: string, item: BuildData): Promise<string> {
  const items = await api.getNodeBuildData(nodeName, {
    latest: false,
    verbosity: 2,
    taskId: item.task_id,
  });
  const match = items.find((i) => keyOf(i) === keyOf(item));
  if (!match || match.data_element === undefined) throw new Error('the item is gone');
  return match.data_element;
}

export function NodesPage(props: { nodeName: string | null }) {
  const [name, setName] = useState(props.nodeName ?? '');
  return (
    <section aria-labelledby="nodes-title">
      <div class="page-head">
        <h1 id="nodes-title">{props.nodeName ? `Node ${props.nodeName}` : 'Nodes'}</h1>
        <p class="hint">A node's build history (lshw, lldp, …) by generator, newest first.</p>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) window.location.hash = href.node(name.trim());
        }}
      >
        <label>
          Node name
          <input
            name="node"
            value={name}
            required
            autoComplete="off"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Show history
        </button>
      </form>
      {props.nodeName ? <NodeHistory nodeName={props.nodeName} key={props.nodeName} /> : null}
    </section>
  );
}

function NodeHistory(props: { nodeName: string }) {
  const { nodeName } = props;
  const live = useLive(
    () => api.getNodeBuildData(nodeName, { latest: false, verbosity: 1, limit: HISTORY_LIMIT }),
    { key: nodeName, intervalMs: 10_000, concerns: null },
  );
  const now = useNow();
  const [viewing, setViewing] = useState<{ item: BuildData; text: string | Error } | null>(null);
  const [picked, setPicked] = useState<string[]>([]);

  const items = live.data ?? [];
  const generators = new Map<string, BuildData[]>();
  for (const item of items) {
    generators.set(item.generator, [...(generators.get(item.generator) ?? []), item]);
  }
  const pickedItems = picked
    .map((key) => items.find((item) => keyOf(item) === key))
    .filter((item): item is BuildData => item !== undefined);

  const view = async (item: BuildData) => {
    setViewing({ item, text: '' });
    try {
      setViewing({ item, text: await loadPayload(nodeName, item) });
    } catch (error) {
      setViewing({ item, text: error as Error });
    }
  };
  const toggle = (item: BuildData, on: boolean) => {
    const key = keyOf(item);
    setPicked((old) =>
      on ? [...old.filter((k) => k !== key), key].slice(-2) : old.filter((k) => k !== key),
    );
  };

  return (
    <>
      <LoadError error={live.error} what="the build history" />
      {live.data && items.length === 0 ? (
        <p class="empty">No build data recorded for {nodeName}.</p>
      ) : null}
      {[...generators].map(([generator, list]) => (
        <section class="panel" key={generator} aria-labelledby={`gen-${generator}`}>
          <h2 id={`gen-${generator}`}>
            {generator} <span class="hint">({plural(list.length, 'run')})</span>
          </h2>
          <table class="history">
            <thead>
              <tr>
                <th scope="col">Compare</th>
                <th scope="col">Collected</th>
                <th scope="col">Task</th>
                <th scope="col">Format</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {list.map((item, i) => (
                <tr key={keyOf(item)} data-generator={generator}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Compare the ${generator} run of ${item.collected_date}`}
                      checked={picked.includes(keyOf(item))}
                      onChange={(e) => toggle(item, e.currentTarget.checked)}
                    />
                  </td>
                  <td>
                    <When iso={item.collected_date} now={now} />
                    {i === 0 ? <span class="badge latest">latest</span> : null}
                  </td>
                  <td>
                    <a href={href.task(item.task_id)} class="mono">
                      {shortId(item.task_id)}
                    </a>
                  </td>
                  <td>{item.data_format}</td>
                  <td>
                    <button type="button" onClick={() => view(item)}>
                      View
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {pickedItems.length === 2 ? (
        <DiffPanel
          nodeName={nodeName}
          older={pickedItems[0] as BuildData}
          newer={pickedItems[1] as BuildData}
        />
      ) : items.length > 1 ? (
        <p class="hint">Tick two runs to compare them line by line.</p>
      ) : null}
      {viewing ? (
        <section class="panel" aria-labelledby="payload-title">
          <h2 id="payload-title">
            {viewing.item.generator} of {viewing.item.collected_date}
          </h2>
          {viewing.text instanceof Error ? (
            <p class="load-error" role="alert">
              {viewing.text.message}
            </p>
          ) : (
            <pre class="payload">{viewing.text === '' ? 'Reading…' : viewing.text}</pre>
          )}
        </section>
      ) : null}
    </>
  );
}

interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

function DiffPanel(props: { nodeName: string; older: BuildData; newer: BuildData }) {
  const [older, newer] =
    props.older.collected_date <= props.newer.collected_date
      ? [props.older, props.newer]
      : [props.newer, props.older];
  const live = useLive(
    async () => {
      const [a, b] = await Promise.all([
        loadPayload(props.nodeName, older),
        loadPayload(props.nodeName, newer),
      ]);
      // Loaded on demand: the diff code is only fetched by an operator who compares.
      const { diffLines } = await import('diff');
      const lines: DiffLine[] = [];
      for (const part of diffLines(a, b)) {
        const kind = part.added ? 'added' : part.removed ? 'removed' : 'same';
        for (const text of part.value.replace(/\n$/, '').split('\n')) lines.push({ kind, text });
      }
      return lines;
    },
    { key: `${keyOf(older)}>${keyOf(newer)}`, intervalMs: 3_600_000, concerns: null },
  );
  const lines = live.data ?? [];
  const changed = lines.filter((l) => l.kind !== 'same').length;
  return (
    <section class="panel" aria-labelledby="diff-title">
      <h2 id="diff-title">
        {older.generator}: {older.collected_date} → {newer.collected_date}
      </h2>
      <LoadError error={live.error} what="the two runs" />
      {live.data ? (
        <>
          <p class="hint">
            {changed === 0 ? 'The two runs are identical.' : `${plural(changed, 'line')} differ.`}
          </p>
          <pre class="diff" data-testid="diff">
            {lines.map((line, i) =>
              line.kind === 'same' ? (
                <span key={i} class="same">{`  ${line.text}\n`}</span>
              ) : (
                <span key={i} class={line.kind}>
                  {`${line.kind === 'added' ? '+ ' : '- '}${line.text}\n`}
                </span>
              ),
            )}
          </pre>
        </>
      ) : (
        <p class="loading">Comparing…</p>
      )}
    </section>
  );
}
