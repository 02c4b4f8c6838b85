/**
 * oslo.policy check strings, the subset Drydock's policy files use: `role:<name>`,
 * `rule:<name>`, generic `<credential>:<value>` checks (`is_admin:1`, `project_id:%(project_id)s`),
 * `@` (always), `!` (never), `and`, `or`, `not` and parentheses, with oslo's precedence
 * (not > and > or) and its comparison rules. Remote `http:`/`https:` checks are refused.
 *
 * Where oslo.policy logs "failed to understand rule" and quietly evaluates it to false, this
 * parser throws: a policy document with a typo fails the service's start, not a caller's request.
 */

/** A parsed check string. */
export type Check =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'role'; readonly match: string }
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'generic'; readonly key: string; readonly match: string }
  | { readonly kind: 'not'; readonly check: Check }
  | { readonly kind: 'and' | 'or'; readonly checks: readonly Check[] };

/** A check string that cannot be parsed; the message quotes the string and says why. */
export class CheckSyntaxError extends Error {
  override readonly name = 'CheckSyntaxError';
}

/** What a check is evaluated against: Drydock's policy view of the caller and the target. */
export interface CheckContext {
  /** The caller's credentials (Drydock's `to_policy_view()`). */
  readonly credentials: Readonly<Record<string, unknown>>;
  /** Drydock's authorisation target: `{project_id, user_id}` of the caller. */
  readonly target: Readonly<Record<string, unknown>>;
  /** The check a `rule:<name>` refers to; undefined evaluates to false, as in oslo.policy. */
  rule(name: string): Check | undefined;
}

type Token =
  | { type: '(' | ')' | 'and' | 'or' | 'not' }
  | { type: 'check'; text: string }
  | { type: 'string'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    let rest = word;
    while (rest.startsWith('(')) {
      tokens.push({ type: '(' });
      rest = rest.slice(1);
    }
    let closing = 0;
    while (rest.endsWith(')')) {
      closing += 1;
      rest = rest.slice(0, -1);
    }
    if (rest !== '') {
      const lowered = rest.toLowerCase();
      if (lowered === 'and' || lowered === 'or' || lowered === 'not') {
        tokens.push({ type: lowered });
      } else if (rest.length >= 2 && /^(["']).*\1$/.test(rest)) {
        tokens.push({ type: 'string', text: rest.slice(1, -1) });
      } else {
        tokens.push({ type: 'check', text: rest });
      }
    }
    for (let i = 0; i < closing; i += 1) tokens.push({ type: ')' });
  }
  return tokens;
}

function parseAtom(text: string, source: string): Check {
  if (text === '@') return { kind: 'true' };
  if (text === '!') return { kind: 'false' };
  const colon = text.indexOf(':');
  if (colon <= 0) {
    throw new CheckSyntaxError(`${JSON.stringify(source)}: "${text}" is not a kind:value check`);
  }
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  switch (kind) {
    case 'role':
      return { kind: 'role', match };
    case 'rule':
      return { kind: 'rule', name: match };
    case 'http':
    case 'https':
      throw new CheckSyntaxError(
        `${JSON.stringify(source)}: remote ${kind}: checks are not supported`,
      );
    default:
      return { kind: 'generic', key: kind, match };
  }
}

/**
 * Parses an oslo.policy check string; the empty string allows everyone, as in oslo.policy.
 *
 * @example parseCheckString('role:admin or (role:reader and not role:suspended)')
 */
export function parseCheckString(text: string): Check {
  const tokens = tokenize(text);
  if (tokens.length === 0) return { kind: 'true' };
  let at = 0;
  const fail = (why: string): never => {
    throw new CheckSyntaxError(`${JSON.stringify(text)}: ${why}`);
  };
  const peek = () => tokens[at];
  const expression = (): Check => {
    const checks = [conjunction()];
    while (peek()?.type === 'or') {
      at += 1;
      checks.push(conjunction());
    }
    return checks.length === 1 ? (checks[0] as Check) : { kind: 'or', checks };
  };
  const conjunction = (): Check => {
    const checks = [negation()];
    while (peek()?.type === 'and') {
      at += 1;
      checks.push(negation());
    }
    return checks.length === 1 ? (checks[0] as Check) : { kind: 'and', checks };
  };
  const negation = (): Check => {
    if (peek()?.type === 'not') {
      at += 1;
      return { kind: 'not', check: negation() };
    }
    return primary();
  };
  const primary = (): Check => {
    const token = tokens[at];
    at += 1;
    if (token === undefined) return fail('ends where a check was expected');
    if (token.type === '(') {
      const inner = expression();
      if (tokens[at]?.type !== ')') fail('a parenthesis is not closed');
      at += 1;
      return inner;
    }
    if (token.type === 'check') return parseAtom(token.text, text);
    return fail(`unexpected ${token.type === 'string' ? `"${token.text}"` : `"${token.type}"`}`);
  };
  const check = expression();
  if (at < tokens.length) fail(`unexpected "${(tokens[at] as Token).type}" after a complete check`);
  return check;
}

/** The rule names a check refers to with `rule:`. */
export function referencedRules(check: Check): string[] {
  switch (check.kind) {
    case 'rule':
      return [check.name];
    case 'not':
      return referencedRules(check.check);
    case 'and':
    case 'or':
      return check.checks.flatMap(referencedRules);
    default:
      return [];
  }
}

/** `%(name)s` substitutions from the target; undefined when one is missing (oslo: false). */
function substitute(match: string, target: CheckContext['target']): string | undefined {
  let missing = false;
  const out = match.replace(/%\(([^)]+)\)s/g, (_whole, name: string) => {
    const value = target[name];
    if (value === undefined) missing = true;
    return pythonString(value);
  });
  return missing ? undefined : out;
}

/** How Python's `str()` renders a credential, which oslo.policy compares the match with. */
function pythonString(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

/** A literal on the left of a generic check (`'member':%(role)s`, `True:%(flag)s`), else undefined. */
function literalKey(key: string): string | undefined {
  if (/^(["']).*\1$/.test(key) && key.length >= 2) return key.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(key)) return String(Number(key));
  if (key === 'True' || key === 'False' || key === 'None') return key;
  return undefined;
}

function findInCredentials(value: unknown, path: readonly string[], match: string): boolean {
  if (Array.isArray(value)) return value.some((item) => findInCredentials(item, path, match));
  if (path.length === 0) return pythonString(value) === match;
  if (value === null || typeof value !== 'object') return false;
  const [key, ...rest] = path as [string, ...string[]];
  if (!Object.hasOwn(value, key)) return false;
  return findInCredentials((value as Record<string, unknown>)[key], rest, match);
}

/**
 * Evaluates a parsed check for a caller. `depth` guards against `rule:` cycles, which the policy
 * loader refuses anyway.
 */
export function evaluateCheck(check: Check, context: CheckContext, depth = 0): boolean {
  if (depth > 50) throw new Error('policy rules refer to each other too deeply');
  switch (check.kind) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'not':
      return !evaluateCheck(check.check, context, depth);
    case 'and':
      return check.checks.every((inner) => evaluateCheck(inner, context, depth));
    case 'or':
      return check.checks.some((inner) => evaluateCheck(inner, context, depth));
    case 'rule': {
      const rule = context.rule(check.name);
      return rule !== undefined && evaluateCheck(rule, context, depth + 1);
    }
    case 'role': {
      const match = substitute(check.match, context.target);
      if (match === undefined) return false;
      const roles = context.credentials.roles;
      const wanted = match.toLowerCase();
      return (
        Array.isArray(roles) &&
        roles.some((role) => typeof role === 'string' && role.toLowerCase() === wanted)
      );
    }
    case 'generic': {
      const match = substitute(check.match, context.target);
      if (match === undefined) return false;
      const literal = literalKey(check.key);
      if (literal !== undefined) return literal === match;
      return findInCredentials(context.credentials, check.key.split('.'), match);
    }
  }
}
