import { useRef } from 'preact/hooks';
import type { Lease } from '#shared/client/api-client.ts';
import { api } from '../api.ts';
import { Figure, LoadError, When } from '../components/badges.tsx';
import { formatDuration, formatTime } from '../format.ts';
import { useLive, useNow } from '../live.ts';

interface Takeover {
  at: string;
  fromEpoch: number;
  toEpoch: number;
  fromHolder: string;
  toHolder: string;
}

/**
 * The orchestrator lease. Every takeover increments the epoch (the first claim is epoch 1), so
 * the epoch counts takeovers since the database was created; takeovers that happen while the
 * page is open are listed as they are seen.
 */
export function LeasePage() {
  const seen = useRef<{ last: Lease | null; takeovers: Takeover[] }>({ last: null, takeovers: [] });
  const live = useLive(
    async () => {
      const lease = await api.getLease();
      const { last } = seen.current;
      if (lease && last && lease.epoch !== last.epoch) {
        seen.current.takeovers = [
          {
            at: lease.acquired_at,
            fromEpoch: last.epoch,
            toEpoch: lease.epoch,
            fromHolder: last.holder,
            toHolder: lease.holder,
          },
          ...seen.current.takeovers,
        ];
      }
      seen.current.last = lease;
      return lease;
    },
    // Renewals move the expiry without an event: the lease keeps its own poll.
    { key: 'lease', intervalMs: 3000, concerns: null },
  );
  const now = useNow(1000);
  const lease = live.data;
  return (
    <section aria-labelledby="lease-title">
      <div class="page-head">
        <h1 id="lease-title">Orchestrator lease</h1>
        <p class="hint">Exactly one orchestrator instance holds it; the epoch fences the others.</p>
      </div>
      <LoadError error={live.error} what="the lease" />
      {live.data === null ? (
        <p class="empty">No orchestrator instance has ever claimed the lease.</p>
      ) : null}
      {lease ? <LeaseFacts lease={lease} now={now} readAt={live.refreshedAt ?? now} /> : null}
      <section class="panel" aria-labelledby="takeovers-title">
        <h2 id="takeovers-title">Takeovers</h2>
        {lease ? (
          <p>
            {lease.epoch - 1 === 0
              ? 'None since the first claim (epoch 1).'
              : `${(lease.epoch - 1).toLocaleString('en')} since the first claim (the epoch grows by one on each); the last at ${formatTime(lease.acquired_at)}.`}
          </p>
        ) : null}
        {seen.current.takeovers.length > 0 ? (
          <ul class="takeovers" aria-live="polite">
            {seen.current.takeovers.map((t) => (
              <li key={t.toEpoch}>
                {formatTime(t.at)}: epoch {t.fromEpoch} → {t.toEpoch}, {t.fromHolder} → {t.toHolder}
              </li>
            ))}
          </ul>
        ) : (
          <p class="hint">None seen while this page is open.</p>
        )}
      </section>
    </section>
  );
}

function LeaseFacts(props: { lease: Lease; now: number; readAt: number }) {
  const { lease, now } = props;
  // Expiry is decided on the database clock: show the remaining time as the database sees it
  // (its clock minus this browser's, as of the read).
  const skew = Date.parse(lease.db_now) - props.readAt;
  const remaining = (Date.parse(lease.expires_at) - (now + skew)) / 1000;
  return (
    <section class="panel" aria-labelledby="holder-title">
      <h2 id="holder-title">
        {lease.active ? 'Held by ' : 'Lapsed; last held by '}
        <span class="mono">{lease.holder}</span>
      </h2>
      <dl class="figures">
        <Figure label="Epoch" value={lease.epoch} />
        <Figure label="State" value={lease.active ? 'active' : 'expired'} warn={!lease.active} />
        <Figure
          label={remaining >= 0 ? 'Expires in' : 'Expired'}
          value={remaining >= 0 ? formatDuration(remaining) : `${formatDuration(-remaining)} ago`}
          warn={remaining < 60}
        />
      </dl>
      <dl class="facts">
        <dt>Acquired</dt>
        <dd>
          <When iso={lease.acquired_at} now={now + skew} /> ({formatTime(lease.acquired_at)})
        </dd>
        <dt>Last renewal</dt>
        <dd>
          <When iso={lease.renewed_at} now={now + skew} /> ({formatTime(lease.renewed_at)})
        </dd>
        <dt>Expires</dt>
        <dd>{formatTime(lease.expires_at)}</dd>
        <dt>Database clock</dt>
        <dd>
          {formatTime(lease.db_now)} (
          {Math.abs(skew) < 2000
            ? 'in step with this browser'
            : `${formatDuration(Math.abs(skew) / 1000)} ${skew > 0 ? 'ahead of' : 'behind'} this browser`}
          )
        </dd>
      </dl>
    </section>
  );
}
