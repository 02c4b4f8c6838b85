import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console: a static single-page app (Preact, no server-side rendering) built into `dist/`,
 * which `npm start` and `drydock-state console` serve at `/`. Built by `npm run build:console`
 * (run by `npm ci`'s `prepare`, and by `npm start` when the sources changed since the last build).
 */
export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  clearScreen: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    // The console runs under a strict Content-Security-Policy (no inline scripts or styles).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
