import { useState } from 'preact/hooks';
import type { Api } from './api';
import { Lines, StackedBars } from './charts';
import type { Delivery, DeliveryAttempt, EndpointHour, Subscription } from './types';
import { Failure, Info, Outcome, useAction, useLoad, when } from './ui';

interface Page<T> {
  data: T[];
  next: string | null;
}

/** Share of an hour's attempts answered 2xx below which the operator's list calls a subscription failing. */
const FAILING_BELOW = 0.5;

/**
 * A tenant's subscriptions (or, for the operator, every tenant's): create, edit, pause, rotate the
 * secret, send a test event, and each one's deliveries and endpoint health.
 */
export function SubscriptionsView({ api, operator }: { api: Api; operator: boolean }) {
  const list = useLoad(async () => {
    const page = await api.get<Page<Subscription>>('/v1/subscriptions?limit=100');
    // The operator's list says which are failing: under half their last hour's attempts answered 2xx.
    const health = operator
      ? await Promise.all(page.data.map((s) => api.get<{ hours: EndpointHour[] }>(`/v1/subscriptions/${s.id}/health?hours=1`).catch(() => ({ hours: [] }))))
      : [];
    return page.data.map((s, i) => ({ ...s, failing: failing(health[i]?.hours ?? []) }));
  }, []);
  const [open, setOpen] = useState<string | undefined>();
  const [onlyTrouble, setOnlyTrouble] = useState(operator);
  const [secret, setSecret] = useState<{ id: string; secret: string } | undefined>();
  const action = useAction();
  const shown = (list.data ?? []).filter((s) => !onlyTrouble || s.failing || !s.enabled);
  const act = (label: string, call: () => Promise<unknown>): void => void action.run(async () => (await call(), label), list.reload);
  return (
    <>
      <h2>{operator ? 'Subscriptions of every tenant' : 'Your subscriptions'}</h2>
      <CreateSubscription api={api} operator={operator} onCreated={(s) => (setSecret({ id: s.id, secret: s.secret ?? '' }), list.reload())} />
      {secret && (
        <Info>
          Signing secret of {secret.id}, shown once: <span class="secret">{secret.secret}</span>
        </Info>
      )}
      <Failure error={list.error} />
      <Outcome action={action} />
      {operator && (
        <label>
          <input type="checkbox" checked={onlyTrouble} onChange={(e) => setOnlyTrouble(e.currentTarget.checked)} style={{ minWidth: 0 }} /> Only failing or
          disabled
        </label>
      )}
      <table aria-label="Subscriptions">
        <thead>
          <tr>
            {operator && <th scope="col">Tenant</th>}
            <th scope="col">Endpoint</th>
            <th scope="col">Events</th>
            <th scope="col">State</th>
            <th scope="col">
              <span class="muted">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {list.data && shown.length === 0 && (
            <tr>
              <td colSpan={operator ? 5 : 4} class="muted">
                {onlyTrouble ? 'No subscription is failing or disabled.' : 'No subscriptions yet.'}
              </td>
            </tr>
          )}
          {shown.map((s) => (
            <tr key={s.id}>
              {operator && <td>{s.tenantId}</td>}
              <td>
                <code>{s.url}</code>
                <div class="muted">{s.description}</div>
              </td>
              <td>{s.filter.join(', ')}</td>
              <td class={s.enabled ? (s.failing ? 'bad' : 'ok') : 'warn'}>
                {s.enabled ? (s.failing ? 'failing' : 'active') : s.disabledReason === 'gone' ? 'disabled (410 Gone)' : 'paused'}
              </td>
              <td>
                <div class="row" style={{ gap: '0.3rem' }}>
                  <button type="button" class="secondary" onClick={() => setOpen(open === s.id ? undefined : s.id)} aria-expanded={open === s.id}>
                    Deliveries
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => act(`Test event queued for ${s.url}.`, () => api.post(`/v1/subscriptions/${s.id}/test`))}
                  >
                    Send test event
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => act(s.enabled ? 'Paused.' : 'Resumed.', () => api.post(`/v1/subscriptions/${s.id}/${s.enabled ? 'pause' : 'resume'}`))}
                  >
                    {s.enabled ? 'Pause' : 'Resume'}
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      void action.run(async () => {
                        const r = await api.post<Subscription>(`/v1/subscriptions/${s.id}/rotate-secret`, { overlapSeconds: 86_400 });
                        setSecret({ id: s.id, secret: r.secret ?? '' });
                        return 'Secret rotated: the previous one signs too for a day.';
                      })
                    }
                  >
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => window.confirm(`Delete the subscription to ${s.url}?`) && act('Deleted.', () => api.delete(`/v1/subscriptions/${s.id}`))}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && list.data?.some((s) => s.id === open) && (
        <SubscriptionDetail api={api} subscription={list.data.find((s) => s.id === open)!} onChanged={list.reload} />
      )}
    </>
  );
}

function failing(hours: EndpointHour[]): boolean {
  const attempts = hours.reduce((n, h) => n + h.attempts, 0);
  return attempts > 0 && hours.reduce((n, h) => n + h.delivered, 0) / attempts < FAILING_BELOW;
}

function CreateSubscription({ api, operator, onCreated }: { api: Api; operator: boolean; onCreated: (s: Subscription) => void }) {
  const [form, setForm] = useState({ tenantId: '', url: '', description: '', filter: '#' });
  const action = useAction();
  return (
    <section class="card" aria-labelledby="create">
      <h3 id="create">New subscription</h3>
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const made = await api.post<Subscription>('/v1/subscriptions', {
              ...(operator ? { tenantId: form.tenantId } : {}),
              url: form.url,
              description: form.description,
              filter: form.filter
                .split(',')
                .map((f) => f.trim())
                .filter(Boolean),
            });
            onCreated(made);
            setForm({ ...form, url: '', description: '' });
            return `Subscription created: ${made.id}.`;
          });
        }}
      >
        {operator && (
          <div>
            <label for="new-tenant">Tenant</label>
            <input id="new-tenant" required value={form.tenantId} onInput={(e) => setForm({ ...form, tenantId: e.currentTarget.value })} />
          </div>
        )}
        <div>
          <label for="new-url">Endpoint URL (https)</label>
          <input id="new-url" type="url" required value={form.url} onInput={(e) => setForm({ ...form, url: e.currentTarget.value })} size={40} />
        </div>
        <div>
          <label for="new-description">Description</label>
          <input id="new-description" value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
        </div>
        <div>
          <label for="new-filter">Events (comma-separated patterns)</label>
          <input id="new-filter" value={form.filter} onInput={(e) => setForm({ ...form, filter: e.currentTarget.value })} />
        </div>
        <button type="submit" disabled={action.busy}>
          Create
        </button>
      </form>
      <Outcome action={action} />
    </section>
  );
}

function SubscriptionDetail({ api, subscription, onChanged }: { api: Api; subscription: Subscription; onChanged: () => void }) {
  const [status, setStatus] = useState('');
  const deliveries = useLoad(
    () => api.get<Page<Delivery>>(`/v1/subscriptions/${subscription.id}/deliveries?limit=50${status ? `&status=${status}` : ''}`),
    [subscription.id, status],
    5000,
  );
  const health = useLoad(() => api.get<{ hours: EndpointHour[] }>(`/v1/subscriptions/${subscription.id}/health?hours=24`), [subscription.id], 30_000);
  const [since, setSince] = useState(new Date(Date.now() - 3_600_000).toISOString().slice(0, 16));
  const [log, setLog] = useState<{ id: string; attempts: DeliveryAttempt[] } | undefined>();
  const action = useAction();
  const hours = health.data?.hours ?? [];
  return (
    <section class="card" aria-label={`Deliveries to ${subscription.url}`}>
      <h3>
        Deliveries to <code>{subscription.url}</code>
      </h3>
      <div class="row">
        <StackedBars
          title="Attempts per hour, last 24 h"
          slots={24}
          ends={['24 h ago', 'now']}
          labels={hours.map((h) => new Date(h.hour).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }))}
          series={[
            { name: 'answered 2xx', color: '#1b6e3a', values: hours.map((h) => h.delivered) },
            { name: 'failed', color: '#a3202a', values: hours.map((h) => h.attempts - h.delivered) },
          ]}
        />
        <Lines
          title="Endpoint latency per hour"
          unit="ms"
          labels={hours.map((h) => new Date(h.hour).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }))}
          series={[
            { name: 'p50', color: '#0b5cad', values: hours.map((h) => h.p50Ms ?? 0) },
            { name: 'p95', color: '#7a5200', values: hours.map((h) => h.p95Ms ?? 0) },
          ]}
        />
      </div>
      <form class="inline" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="delivery-status">Status</label>
          <select id="delivery-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option value="pending">pending</option>
            <option value="delivered">delivered</option>
            <option value="failed">failed</option>
          </select>
        </div>
        <div>
          <label for="replay-since">Failed since</label>
          <input id="replay-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} />
        </div>
        <button
          type="button"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              const r = await api.post<{ resent: number }>(`/v1/subscriptions/${subscription.id}/replay`, { since: new Date(since).toISOString() });
              return `${r.resent} failed deliver${r.resent === 1 ? 'y' : 'ies'} sent again.`;
            }, deliveries.reload)
          }
        >
          Resend all failed since
        </button>
      </form>
      <Outcome action={action} />
      <Failure error={deliveries.error ?? health.error} />
      <table aria-label="Deliveries">
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Attempts
            </th>
            <th scope="col">Last answer</th>
            <th scope="col">
              <span class="muted">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deliveries.data?.data.length === 0 && (
            <tr>
              <td colSpan={6} class="muted">
                No deliveries.
              </td>
            </tr>
          )}
          {deliveries.data?.data.map((d) => (
            <tr key={d.id}>
              <td>{when(d.createdAt)}</td>
              <td>
                <code>{d.routingKey}</code>
                <div class="muted">
                  <code>{d.webhookId}</code>
                </div>
              </td>
              <td class={`status-${d.status}`}>{d.status}</td>
              <td class="num">{d.attempts}</td>
              <td>{d.lastStatusCode ?? d.lastError ?? '—'}</td>
              <td>
                <button
                  type="button"
                  class="secondary"
                  aria-expanded={log?.id === d.id}
                  onClick={() =>
                    void action.run(async () => {
                      if (log?.id === d.id) return setLog(undefined);
                      const full = await api.get<Delivery & { log: DeliveryAttempt[] }>(`/v1/subscriptions/${subscription.id}/deliveries/${d.id}`);
                      setLog({ id: d.id, attempts: full.log });
                    })
                  }
                >
                  Attempts
                </button>{' '}
                {d.status !== 'pending' && (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() =>
                      void action.run(async () => {
                        await api.post(`/v1/subscriptions/${subscription.id}/deliveries/${d.id}/resend`);
                        onChanged();
                        return 'Sent again, with the same webhook-id.';
                      }, deliveries.reload)
                    }
                  >
                    Resend
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log && (
        <table aria-label="Attempts of the delivery">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Started</th>
              <th scope="col" class="num">
                Latency (ms)
              </th>
              <th scope="col">Status</th>
              <th scope="col">Error</th>
              <th scope="col">Response (first KB)</th>
            </tr>
          </thead>
          <tbody>
            {log.attempts.map((a) => (
              <tr key={a.attempt}>
                <td>{a.attempt}</td>
                <td>{when(a.startedAt)}</td>
                <td class="num">{a.latencyMs}</td>
                <td>{a.statusCode ?? '—'}</td>
                <td>{a.error ?? '—'}</td>
                <td>
                  <code>{(a.response ?? '').slice(0, 200)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
