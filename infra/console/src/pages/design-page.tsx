import { useState } from 'preact/hooks';
import type { ValidationStatus } from '#shared/client/api-client.ts';
import { api } from '../api.ts';
import { ActionButton } from '../components/action-button.tsx';
import { plural } from '../format.ts';
import { groupValidation } from '../model/validation.ts';

/** Where the design comes from: a reference the service resolves, or YAML pasted here. */
const MODES = [
  ['ref', 'By reference'],
  ['paste', 'Paste the YAML'],
] as const;

/** Validate a site design by reference or pasted, with the messages by rule and document. */
export function DesignPage() {
  const [mode, setMode] = useState<(typeof MODES)[number][0]>('ref');
  const [ref, setRef] = useState('');
  const [content, setContent] = useState('');
  const [result, setResult] = useState<ValidationStatus | null>(null);
  const source = mode === 'ref' ? ref.trim() : content;
  return (
    <section aria-labelledby="design-title">
      <div class="page-head">
        <h1 id="design-title">Design validation</h1>
        <p class="hint">Drydock's validation of a site design, by reference or pasted.</p>
      </div>
      <form class="design-form" onSubmit={(e) => e.preventDefault()}>
        <fieldset>
          <legend>Design</legend>
          {MODES.map(([value, label]) => (
            <label class="check" key={value}>
              <input
                type="radio"
                name="mode"
                value={value}
                checked={mode === value}
                onChange={() => setMode(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        {mode === 'ref' ? (
          <label class="wide">
            Design reference
            <input
              name="design-ref"
              value={ref}
              placeholder="deckhand+https://deckhand/api/v1.0/revisions/1/rendered-documents"
              onInput={(e) => setRef(e.currentTarget.value)}
            />
          </label>
        ) : (
          <label class="wide">
            Design YAML
            <textarea
              name="design-content"
              rows={14}
              spellcheck={false}
              value={content}
              onInput={(e) => setContent(e.currentTarget.value)}
            />
          </label>
        )}
        <ActionButton
          label="Validate"
          title="Validate this design?"
          confirmLabel="Validate"
          disabled={source === ''}
          disabledReason="Give a reference or paste a design"
          run={async () => {
            const status = await api.validateDesign(
              mode === 'ref' ? { href: source } : { content: source },
            );
            setResult(status);
            return 'Validated.';
          }}
        >
          <p>
            {mode === 'ref'
              ? `The service fetches ${source} and runs Drydock's validation on it.`
              : `The service runs Drydock's validation on the ${plural(source.split('\n').length, 'line')} pasted.`}{' '}
            Nothing is stored.
          </p>
        </ActionButton>
      </form>
      {result ? <ValidationResult status={result} /> : null}
    </section>
  );
}

function ValidationResult(props: { status: ValidationStatus }) {
  const { status } = props;
  const groups = groupValidation(status);
  const ok = status.code === 200;
  return (
    <section class="panel" aria-labelledby="verdict-title" data-testid="validation-result">
      <h2 id="verdict-title" class={ok ? 'ok' : 'failed'}>
        {ok ? 'Valid design' : 'Invalid design'}: {plural(status.details.errorCount, 'error')}
      </h2>
      {status.message ? <p class="hint">{status.message}</p> : null}
      {groups.length === 0 ? <p class="empty">No messages.</p> : null}
      {groups.map((group) => (
        <details key={group.rule} open={group.errors > 0} class="rule">
          <summary>
            <span class="mono">{group.rule}</span>{' '}
            {group.errors > 0 ? (
              <span class="badge level-Error">{plural(group.errors, 'error')}</span>
            ) : null}{' '}
            {group.warnings > 0 ? (
              <span class="badge level-Warning">{plural(group.warnings, 'warning')}</span>
            ) : null}
          </summary>
          {group.documents.map((doc) => (
            <div key={doc.document} class="doc-group">
              <h3 class="mono">{doc.document}</h3>
              <ul class="vmsgs">
                {doc.messages.map((m, i) => (
                  <li key={i} class="vmsg">
                    <span class={`badge level-${m.level ?? 'Info'}`}>{m.level ?? 'Info'}</span>{' '}
                    {m.message}
                    {m.diagnostic ? <p class="hint">{m.diagnostic}</p> : null}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </details>
      ))}
    </section>
  );
}
