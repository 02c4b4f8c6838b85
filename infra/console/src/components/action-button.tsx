import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';

export interface ActionButtonProps {
  /** The button's text, e.g. "Terminate". */
  readonly label: string;
  /** The dialog's heading, e.g. "Terminate deploy_nodes 1b2c…?" */
  readonly title: string;
  /** What will happen, in the operator's terms. */
  readonly children: ComponentChildren;
  /** The confirming button's text, e.g. "Terminate the task and its subtasks". */
  readonly confirmLabel: string;
  readonly danger?: boolean;
  readonly disabled?: boolean;
  /** Why it is disabled (shown as the button's description). */
  readonly disabledReason?: string;
  /** The one API call; resolves with a sentence saying what it did. */
  run(): Promise<string>;
  /** After success (read the page's data again). */
  onDone?(): void;
}

/**
 * Every action of the console: a button that opens a modal confirmation (the native `<dialog>`,
 * so focus is trapped and Escape cancels), then makes exactly one API call and says what it did
 * or why it failed.
 */
export function ActionButton(props: ActionButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);

  const confirm = async () => {
    setBusy(true);
    try {
      const text = await props.run();
      setOutcome({ ok: true, text });
      dialog.current?.close();
      props.onDone?.();
    } catch (error) {
      setOutcome({ ok: false, text: (error as Error).message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <span class="action">
      <button
        type="button"
        class={props.danger ? 'danger' : 'primary'}
        disabled={props.disabled}
        title={props.disabled ? props.disabledReason : undefined}
        onClick={() => {
          setOutcome(null);
          dialog.current?.showModal();
        }}
      >
        {props.label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${props.label}-title`} class="confirm">
        <h2 id={`${props.label}-title`}>{props.title}</h2>
        <div class="confirm-body">{props.children}</div>
        {outcome && !outcome.ok ? (
          <p class="outcome error" role="alert">
            {outcome.text}
          </p>
        ) : null}
        <div class="confirm-buttons">
          <button type="button" autofocus onClick={() => dialog.current?.close()} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            class={props.danger ? 'danger' : 'primary'}
            onClick={confirm}
            disabled={busy}
          >
            {busy ? 'Working…' : props.confirmLabel}
          </button>
        </div>
      </dialog>
      <span class={`outcome ${outcome?.ok ? 'ok' : ''}`} role="status">
        {outcome?.ok ? outcome.text : ''}
      </span>
    </span>
  );
}
