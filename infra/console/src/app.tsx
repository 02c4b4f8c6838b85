import { useEffect, useState } from 'preact/hooks';
import { type ConnectionState, subscribeConnection } from './live.ts';
import { DesignPage } from './pages/design-page.tsx';
import { LeasePage } from './pages/lease-page.tsx';
import { NodesPage } from './pages/nodes-page.tsx';
import { QueuePage } from './pages/queue-page.tsx';
import { TaskPage } from './pages/task-page.tsx';
import { TasksPage } from './pages/tasks-page.tsx';
import { href, parseRoute, type Route } from './router.ts';

const NAV: { label: string; href: string; pages: Route['page'][] }[] = [
  { label: 'Tasks', href: href.tasks(), pages: ['tasks', 'task'] },
  { label: 'Queue', href: href.queue(), pages: ['queue'] },
  { label: 'Lease', href: href.lease(), pages: ['lease'] },
  { label: 'Nodes', href: href.nodes(), pages: ['nodes'] },
  { label: 'Design', href: href.design(), pages: ['design'] },
];

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => {
      setRoute(parseRoute(window.location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function Connection() {
  const [state, setState] = useState<ConnectionState>({ ok: true, at: 0 });
  useEffect(() => subscribeConnection(setState), []);
  return (
    <p class={`connection ${state.ok ? 'ok' : 'down'}`} role="status">
      {state.ok ? 'Live' : `API unreachable: ${state.message ?? 'no answer'}`}
    </p>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'tasks':
      return <TasksPage query={route.query} />;
    case 'task':
      return <TaskPage taskId={route.taskId} key={route.taskId} />;
    case 'nodes':
      return <NodesPage nodeName={route.nodeName} key={route.nodeName ?? ''} />;
    case 'lease':
      return <LeasePage />;
    case 'queue':
      return <QueuePage />;
    case 'design':
      return <DesignPage />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page at <span class="mono">{route.path}</span>. <a href={href.tasks()}>Tasks</a>
          </p>
        </section>
      );
  }
}

export function App() {
  const route = useRoute();
  useEffect(() => {
    const title = NAV.find((item) => item.pages.includes(route.page))?.label ?? 'Console';
    document.title = `${title} · Drydock state`;
  }, [route.page]);
  return (
    <>
      <header class="top">
        <a class="brand" href={href.tasks()}>
          Drydock state
        </a>
        <nav aria-label="Pages">
          <ul>
            {NAV.map((item) => (
              <li key={item.label}>
                <a
                  href={item.href}
                  aria-current={item.pages.includes(route.page) ? 'page' : undefined}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <Connection />
      </header>
      <main id="main">
        <Page route={route} />
      </main>
    </>
  );
}
