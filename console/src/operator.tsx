import { useState } from 'preact/hooks';
import { mask, today, type Api } from './api';
import { StackedBars } from './charts';
import { SubscriptionsView } from './subscriptions';
import type { CachedTenantState, DeadLetter, MessageTrace, Overview, ReplayCounts } from './types';
import { Failure, Info, Outcome, Tabs, useAction, useLoad, when } from './ui';

type View = 'overview' | 'dead' | 'tenants' | 'trace' | 'subscriptions';
const VIEWS: ReadonlyArray<[View, string]> = [
  ['overview', 'Intake and queues'],
  ['dead', 'Dead letters and replay'],
  ['tenants', 'Tenants'],
  ['trace', 'Message trace'],
  ['subscriptions', 'Subscriptions'],
];

export function OperatorConsole({ api }: { api: Api }) {
  const [view, setView] = useState<View>('overview');
  return (
    <>
      <Tabs label="Operator views" tabs={VIEWS} current={view} onSelect={setView} />
      <main>
        {view === 'overview' && <OverviewView api={api} />}
        {view === 'dead' && <DeadLettersView api={api} />}
        {view === 'tenants' && <TenantsView api={api} />}
        {view === 'trace' && <TraceView api={api} path={(wamid) => `/admin/messages/${encodeURIComponent(wamid)}`} masked />}
        {view === 'subscriptions' && <SubscriptionsView api={api} operator />}
      </main>
    </>
  );
}

function OverviewView({ api }: { api: Api }) {
  const { data, error } = useLoad(() => api.get<Overview>('/admin/overview'), [], 10_000);
  return (
    <>
      <h2>Intake and queues</h2>
      <Failure error={error} />
      {data && (
        <>
          <section class="card" aria-labelledby="throughput">
            <h3 id="throughput">Throughput and refusals, last hour (this instance, per 10 s)</h3>
            <StackedBars
              title="Updates received per 10 s"
              slots={360}
              ends={['an hour ago', 'now']}
              labels={data.lastHour.map((p) => new Date(p.at).toLocaleTimeString())}
              series={[
                { name: 'accepted', color: '#1b6e3a', values: data.lastHour.map((p) => p.accepted) },
                { name: 'duplicates', color: '#7b8794', values: data.lastHour.map((p) => p.duplicates) },
                { name: 'refused', color: '#a3202a', values: data.lastHour.map((p) => p.refused) },
              ]}
            />
          </section>
          <div class="row">
            <section class="card" aria-labelledby="intake">
              <h3 id="intake">Intake per tenant (since this instance started)</h3>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Tenant</th>
                    <th scope="col" class="num">
                      Accepted
                    </th>
                    <th scope="col" class="num">
                      Duplicates
                    </th>
                    <th scope="col">Refused, by code</th>
                  </tr>
                </thead>
                <tbody>
                  {data.intake.length === 0 && (
                    <tr>
                      <td colSpan={4} class="muted">
                        Nothing received yet.
                      </td>
                    </tr>
                  )}
                  {data.intake.map((t) => (
                    <tr key={t.tenant}>
                      <th scope="row">{t.tenant}</th>
                      <td class="num">{t.accepted}</td>
                      <td class="num">{t.duplicates}</td>
                      <td>
                        {Object.entries(t.refused)
                          .map(([code, n]) => `${code}: ${n}`)
                          .join(', ') || '—'}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section class="card" aria-labelledby="queues">
              <h3 id="queues">Queues</h3>
              <table aria-label="Queues">
                <thead>
                  <tr>
                    <th scope="col">Queue</th>
                    <th scope="col" class="num">
                      Messages
                    </th>
                    <th scope="col" class="num">
                      Consumers
                    </th>
                    <th scope="col" class="num">
                      Oldest in progress
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.queues.map((q) => (
                    <tr key={q.queue}>
                      <th scope="row">
                        <code>{q.queue}</code>
                      </th>
                      <td class={`num ${q.queue.endsWith('.dead') && (q.messages ?? 0) > 0 ? 'bad' : ''}`}>{q.messages ?? 'not declared'}</td>
                      <td class="num">{q.consumers ?? '—'}</td>
                      <td class={`num ${(q.oldestSeconds ?? 0) >= 60 ? 'bad' : ''}`}>{q.oldestSeconds === null ? '—' : `${q.oldestSeconds} s`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="muted">
                Oldest in progress: since the receiver accepted the oldest message a worker is processing from the queue (0 s: none), as the workers report it;
                — where no worker of ours consumes.
              </p>
            </section>
          </div>
        </>
      )}
    </>
  );
}

function DeadLettersView({ api }: { api: Api }) {
  const letters = useLoad(() => api.get<{ total: number; shown: DeadLetter[] }>('/admin/dead-letters?limit=50'), []);
  const [form, setForm] = useState({ tenantId: '', from: today(), to: today() });
  const [dry, setDry] = useState<ReplayCounts | undefined>();
  const action = useAction();
  const request = { ...form, source: 'failed' as const };
  const pick = (letter: DeadLetter): void => {
    const day = typeof letter.receivedAt === 'string' ? letter.receivedAt.slice(0, 10) : today();
    setForm({ tenantId: letter.tenantId ?? '', from: day, to: day });
    setDry(undefined);
  };
  return (
    <>
      <h2>Dead letters and replay</h2>
      <p class="muted">
        A hand-off dead-lettered after its retries keeps its payload in the object store under <code>failed/</code>. Replay republishes those payloads (a dry
        run first shows which); the dead letters themselves stay listed until purged (<code>npm run dead-letters -- purge --yes</code>).
      </p>
      <section class="card" aria-labelledby="letters">
        <h3 id="letters">Dead letters {letters.data ? `(${letters.data.total})` : ''}</h3>
        <Failure error={letters.error} />
        <button type="button" class="secondary" onClick={letters.reload}>
          Refresh
        </button>
        <table>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Received</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last error</th>
              <th scope="col">Correlation id</th>
              <th scope="col">Failed payload</th>
              <th scope="col">
                <span class="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {letters.data?.shown.length === 0 && (
              <tr>
                <td colSpan={7} class="muted">
                  No dead letters.
                </td>
              </tr>
            )}
            {letters.data?.shown.map((l, i) => (
              <tr key={`${l.correlationId ?? ''}-${i}`}>
                <td>{l.tenantId ?? '—'}</td>
                <td>{when(l.receivedAt)}</td>
                <td>{l.attempts ?? '—'}</td>
                <td>{l.lastError ?? '—'}</td>
                <td>
                  <code>{l.correlationId ?? '—'}</code>
                </td>
                <td>
                  <code>{l.failedKey ?? '—'}</code>
                </td>
                <td>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => pick(l)}
                    aria-label={`Replay the failed payloads of ${l.tenantId ?? 'this tenant'} from that day`}
                  >
                    Replay…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="replay">
        <h3 id="replay">Replay failed payloads</h3>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              setDry(await api.post<ReplayCounts>('/admin/replay', { ...request, dryRun: true }));
            });
          }}
        >
          <div>
            <label for="replay-tenant">Tenant</label>
            <input
              id="replay-tenant"
              required
              value={form.tenantId}
              onInput={(e) => (setForm({ ...form, tenantId: e.currentTarget.value }), setDry(undefined))}
            />
          </div>
          <div>
            <label for="replay-from">From (day)</label>
            <input
              id="replay-from"
              type="date"
              required
              value={form.from}
              onInput={(e) => (setForm({ ...form, from: e.currentTarget.value }), setDry(undefined))}
            />
          </div>
          <div>
            <label for="replay-to">To (day)</label>
            <input id="replay-to" type="date" required value={form.to} onInput={(e) => (setForm({ ...form, to: e.currentTarget.value }), setDry(undefined))} />
          </div>
          <button type="submit" disabled={action.busy}>
            Dry run
          </button>
        </form>
        {dry && (
          <div aria-live="polite">
            <Info>
              Dry run: {dry.found} failed payload(s) found, {dry.replayed} would be republished, {dry.skipped} already published.
            </Info>
            {dry.keys && dry.keys.length > 0 && (
              <ul aria-label="Payloads that would be republished">
                {dry.keys.map((k) => (
                  <li key={k}>
                    <code>{k}</code>
                  </li>
                ))}
              </ul>
            )}
            <button
              type="button"
              disabled={action.busy || dry.replayed === 0}
              onClick={() =>
                void action.run(async () => {
                  const done = await api.post<ReplayCounts>('/admin/replay', { ...request, dryRun: false });
                  setDry(undefined);
                  return `Replayed ${done.replayed} payload(s); ${done.skipped} skipped, ${done.failed} failed.`;
                }, letters.reload)
              }
            >
              Replay {dry.replayed} payload(s)
            </button>
          </div>
        )}
        <Outcome action={action} />
      </section>
    </>
  );
}

function TenantsView({ api }: { api: Api }) {
  const overview = useLoad(() => api.get<Overview>('/admin/overview'), []);
  const cached = useLoad(() => api.get<{ tenants: CachedTenantState[]; complete: boolean }>('/admin/tenants'), []);
  const [tenantId, setTenantId] = useState('');
  const action = useAction();
  const invalidate = (body: { tenantId: string } | { all: true }): void =>
    void action.run(async () => {
      const r = await api.post<{ keysDeleted: number; instancesNotified: number }>('/admin/cache/invalidate', body);
      return `Cache invalidated for ${'all' in body ? 'every tenant' : body.tenantId}: ${r.keysDeleted} key(s) deleted, ${r.instancesNotified} instance(s) notified.`;
    }, cached.reload);
  const state = new Map((cached.data?.tenants ?? []).map((t) => [t.tenantId, t]));
  const ids = [...new Set([...(overview.data?.intake.map((t) => t.tenant) ?? []), ...state.keys()])].filter((id) => id !== 'unknown').sort();
  const accepted = new Map((overview.data?.intake ?? []).map((t) => [t.tenant, t.accepted]));
  return (
    <>
      <h2>Tenants</h2>
      <p class="muted">After changing a tenant (secret, token, numbers), invalidate its cache so that no instance keeps the old one.</p>
      <Failure error={overview.error ?? cached.error} />
      <section class="card" aria-labelledby="seen">
        <h3 id="seen">Tenants received from or cached</h3>
        <table aria-label="Tenants">
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col" class="num">
                Accepted (this instance)
              </th>
              <th scope="col">Redis cache</th>
              <th scope="col">
                <span class="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {ids.map((id) => {
              const c = state.get(id);
              return (
                <tr key={id}>
                  <th scope="row">{id}</th>
                  <td class="num">{accepted.get(id) ?? 0}</td>
                  <td>{c ? `cached: ${c.keys} key(s)${c.expiresInSeconds === null ? '' : `, expires in ${c.expiresInSeconds} s`}` : 'not cached'}</td>
                  <td>
                    <button type="button" class="secondary" onClick={() => invalidate({ tenantId: id })} aria-label={`Invalidate the cache of ${id}`}>
                      Invalidate cache
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {cached.data && !cached.data.complete && <p class="muted">Redis holds more keys than one listing reads: some tenants may be missing here.</p>}
      </section>
      <section class="card" aria-labelledby="any">
        <h3 id="any">Any tenant</h3>
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            invalidate({ tenantId });
          }}
        >
          <div>
            <label for="invalidate-tenant">Tenant id</label>
            <input id="invalidate-tenant" required value={tenantId} onInput={(e) => setTenantId(e.currentTarget.value)} />
          </div>
          <button type="submit" disabled={action.busy}>
            Invalidate
          </button>
          <button type="button" class="secondary" disabled={action.busy} onClick={() => invalidate({ all: true })}>
            Invalidate every tenant
          </button>
        </form>
        <Outcome action={action} />
      </section>
    </>
  );
}

/** Digits long enough to be a phone number, hidden but for their last four (the operator's view). */
function maskNumbers(line: string): string {
  return line.replace(/\+?\d{7,15}/g, (n) => mask(n));
}

export function TraceView({ api, path, masked }: { api: Api; path: (wamid: string) => string; masked: boolean }) {
  const [wamid, setWamid] = useState('');
  const [traces, setTraces] = useState<MessageTrace[] | undefined>();
  const action = useAction();
  return (
    <>
      <h2>Message trace</h2>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const found = await api.get<MessageTrace | { traces: MessageTrace[] }>(path(wamid.trim()));
            setTraces('traces' in found ? found.traces : [found]);
          });
        }}
      >
        <div>
          <label for="trace-wamid">Message id (wamid)</label>
          <input id="trace-wamid" required value={wamid} onInput={(e) => setWamid(e.currentTarget.value)} size={60} />
        </div>
        <button type="submit" disabled={action.busy}>
          Trace
        </button>
      </form>
      <Outcome action={action} />
      {traces?.map((t) => (
        <section class="card" key={t.tenantId} aria-label={`Trace of ${t.messageId} for ${t.tenantId}`}>
          <h3>
            {t.messageId} <span class="muted">({t.tenantId})</span>
          </h3>
          {t.message && (
            <p>
              {t.message.direction ?? ''} {t.message.type ?? ''}, state <strong>{t.message.state ?? '—'}</strong>, customer{' '}
              {masked ? mask(t.message.waId) : (t.message.waId ?? '—')} (user id {masked ? mask(t.message.userId) : (t.message.userId ?? '—')}), updated{' '}
              {when(t.message.updatedAt)}
            </p>
          )}
          <pre>{(masked ? t.steps.map(maskNumbers) : t.steps).join('\n')}</pre>
        </section>
      ))}
    </>
  );
}
