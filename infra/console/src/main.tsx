import { render } from 'preact';
import { App } from './app.tsx';

// The start of the app, for the render-time measurement (npm run screenshot).
performance.mark('drydock:app-started');
const root = document.getElementById('app');
if (!root) throw new Error('the page has no #app element');
root.replaceChildren();
render(<App />, root);
