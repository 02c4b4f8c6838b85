import nunjucks from 'nunjucks';

/**
 * Drydock's `template` pipeline segment (`BootActionAsset.eval_template`: `jinja2.Template(data)
 * .render(ctx)`), through nunjucks, a maintained Jinja2-compatible engine, held in a sandbox:
 *
 * - no file system and no network: the environment has one loader, which refuses every name, so
 *   `include`, `import` and `extends` fail instead of reading `views/` (nunjucks' default loader
 *   on Node is a FileSystemLoader);
 * - no way out to JavaScript: member lookups reach only own data properties of the context's
 *   plain objects and arrays, a string's or array's `length`, and a short list of string methods;
 *   `constructor`, `__proto__`, prototypes and every other method are undefined (nunjucks alone
 *   lets `range.constructor("…")()` run code);
 * - bounded: `range()` yields at most {@link TEMPLATE_LIMITS.rangeItems} numbers, a render may
 *   output at most `maxOutputBytes`, hold no variable longer than that, and take at most
 *   {@link TEMPLATE_LIMITS.steps} lookups and outputs; past any bound the render fails.
 *
 * What a design's templates use of Jinja2 (`{{ node.hostname }}`, `{% for %}`, `{% if %}`, filters
 * such as `urlencode`, `default`, `join`) renders the same. Jinja2 drops one trailing newline of
 * the template (`keep_trailing_newline=False`), so this does too: outputs match byte for byte.
 */

export const TEMPLATE_LIMITS = {
  /** Numbers one `range()` call may produce. */
  rangeItems: 10_000,
  /** Lookups and outputs one render may make. */
  steps: 1_000_000,
} as const;

/** A template that failed to compile or render, or went past a bound. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** String methods a template may call (read-only ones). */
const STRING_METHODS = new Set([
  'toUpperCase',
  'toLowerCase',
  'trim',
  'split',
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'replace',
  'slice',
  'padStart',
  'padEnd',
]);

/** The budget of the render in progress: renders are synchronous, so one at a time. */
let budget: { steps: number; outputBytes: number; maxOutputBytes: number } | undefined;

function spend(): void {
  if (!budget) return;
  budget.steps += 1;
  if (budget.steps > TEMPLATE_LIMITS.steps) {
    throw new TemplateError(`the template took more than ${TEMPLATE_LIMITS.steps} steps`);
  }
}

function checkSize(value: unknown): void {
  if (budget && typeof value === 'string' && value.length > budget.maxOutputBytes) {
    throw new TemplateError(`a template value grew past ${budget.maxOutputBytes} characters`);
  }
}

function isPlainData(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The only member lookup templates get (see the module comment). */
function safeMemberLookup(obj: unknown, key: unknown): unknown {
  spend();
  if (obj === undefined || obj === null) return undefined;
  const name = typeof key === 'number' ? key : String(key);
  if (typeof obj === 'string') {
    if (name === 'length') return obj.length;
    if (typeof name === 'number') return obj[name];
    if (STRING_METHODS.has(name)) {
      const method = String.prototype[name as keyof string] as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const out = method.apply(obj, args);
        checkSize(out);
        return out;
      };
    }
    return undefined;
  }
  if (Array.isArray(obj) && name === 'length') return obj.length;
  if (!isPlainData(obj) || !Object.hasOwn(obj, name)) return undefined;
  const value = (obj as Record<string | number, unknown>)[name];
  return typeof value === 'function' ? undefined : value;
}

const runtime = (nunjucks as unknown as { runtime: Record<string, unknown> }).runtime;
const originalSuppress = runtime.suppressValue as (val: unknown, autoescape: boolean) => unknown;
const originalLookup = runtime.contextOrFrameLookup as (...a: unknown[]) => unknown;
const FrameClass = runtime.Frame as { prototype: { set: (...a: unknown[]) => void } };
const originalSet = FrameClass.prototype.set;

// The runtime is nunjucks' module object, which compiled templates call through: patched once,
// for every nunjucks render in the process (this module is the only one that renders).
runtime.memberLookup = safeMemberLookup;
runtime.suppressValue = (val: unknown, autoescape: boolean) => {
  spend();
  const out = originalSuppress(val, autoescape);
  if (budget) {
    budget.outputBytes += Buffer.byteLength(String(out), 'utf8');
    if (budget.outputBytes > budget.maxOutputBytes) {
      throw new TemplateError(`the template's output grew past ${budget.maxOutputBytes} bytes`);
    }
  }
  return out;
};
// Names every object inherits (`constructor`, `toString`, `__defineGetter__`…) would otherwise
// resolve to Object's own functions through the context's plain-object variables.
runtime.contextOrFrameLookup = (...args: unknown[]) => {
  spend();
  if (String(args[2]) in Object.prototype) return undefined;
  return originalLookup(...args);
};
FrameClass.prototype.set = function set(this: unknown, ...args: unknown[]) {
  // Every loop iteration sets its variable: an empty loop body still spends.
  spend();
  checkSize(args[1]);
  return originalSet.apply(this, args);
};

class RefusingLoader {
  getSource(name: string): never {
    throw new TemplateError(
      `templates cannot load other templates (${JSON.stringify(name.slice(0, 64))})`,
    );
  }
}

function boundedRange(start: number, stop?: number, step = 1): number[] {
  const [from, to] = stop === undefined ? [0, start] : [start, stop];
  if (!Number.isFinite(from) || !Number.isFinite(to) || !Number.isFinite(step) || step === 0) {
    throw new TemplateError('range() needs finite numbers and a non-zero step');
  }
  const count = Math.max(0, Math.ceil((to - from) / step));
  if (count > TEMPLATE_LIMITS.rangeItems) {
    throw new TemplateError(`range() may produce at most ${TEMPLATE_LIMITS.rangeItems} numbers`);
  }
  return Array.from({ length: count }, (_, i) => from + i * step);
}

const env = new nunjucks.Environment([new RefusingLoader() as unknown as nunjucks.ILoader], {
  autoescape: false,
  throwOnUndefined: false,
});
env.addGlobal('range', boundedRange);

/**
 * Renders `source` with `context`, bounded to `maxOutputBytes` of output.
 * @example renderTemplate('echo {{ node.hostname }}', { node: { hostname: 'n1' } }, 65536)
 */
export function renderTemplate(
  source: string,
  context: Record<string, unknown>,
  maxOutputBytes: number,
): string {
  const text = source.endsWith('\r\n')
    ? source.slice(0, -2)
    : source.endsWith('\n')
      ? source.slice(0, -1)
      : source;
  budget = { steps: 0, outputBytes: 0, maxOutputBytes };
  try {
    return env.renderString(text, context);
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // nunjucks wraps errors raised inside a render ("(unknown path) [Line 1, Column 4]\n  …").
    const flat = message.replace(/\s+/g, ' ').replace(/^\(unknown path\) ?/, '');
    throw new TemplateError(flat.replace(/^(?:\[[^\]]*\] )?(?:\w*Error: )+/, '').slice(0, 300));
  } finally {
    budget = undefined;
  }
}
