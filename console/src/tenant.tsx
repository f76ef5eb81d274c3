import { useState } from 'preact/hooks';
import { today, type Api } from './api';
import { Funnel } from './charts';
import { TraceView } from './operator';
import { SubscriptionsView } from './subscriptions';
import type { Stats } from './types';
import { Failure, Tabs, useLoad } from './ui';

type View = 'subscriptions' | 'trace' | 'funnel';
const VIEWS: ReadonlyArray<[View, string]> = [
  ['subscriptions', 'Subscriptions and deliveries'],
  ['trace', 'Message trace'],
  ['funnel', 'Daily funnel'],
];

export function TenantConsole({ api }: { api: Api }) {
  const [view, setView] = useState<View>('subscriptions');
  return (
    <>
      <Tabs label="Tenant views" tabs={VIEWS} current={view} onSelect={setView} />
      <main>
        {view === 'subscriptions' && <SubscriptionsView api={api} operator={false} />}
        {/* A tenant's own message: shown whole (its own customers' numbers). */}
        {view === 'trace' && <TraceView api={api} path={(wamid) => `/v1/messages/${encodeURIComponent(wamid)}`} masked={false} />}
        {view === 'funnel' && <FunnelView api={api} />}
      </main>
    </>
  );
}

function FunnelView({ api }: { api: Api }) {
  const [day, setDay] = useState(today());
  const { data, error } = useLoad(() => api.get<Stats>(`/v1/stats?from=${day}&to=${day}`), [day]);
  const funnel = data?.days[0]?.funnel;
  return (
    <>
      <h2>Daily funnel of outbound messages</h2>
      <label for="funnel-day">Day (UTC)</label>
      <input id="funnel-day" type="date" value={day} onInput={(e) => setDay(e.currentTarget.value)} />
      <Failure error={error} />
      {data && !funnel && <p class="muted">Nothing in the ledger for that day.</p>}
      {funnel && (
        <>
          <Funnel
            title={`Messages reaching each state on ${day}`}
            steps={[
              { name: 'sent', value: funnel.sent, color: '#0b5cad' },
              { name: 'delivered', value: funnel.delivered, color: '#1b6e3a' },
              { name: 'read', value: funnel.read, color: '#2f8f5b' },
              { name: 'failed', value: funnel.failed, color: '#a3202a' },
            ]}
          />
          <h3>By pricing category</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Category</th>
                <th scope="col" class="num">
                  Sent
                </th>
                <th scope="col" class="num">
                  Delivered
                </th>
                <th scope="col" class="num">
                  Read
                </th>
                <th scope="col" class="num">
                  Failed
                </th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(funnel.byCategory).map(([category, c]) => (
                <tr key={category}>
                  <th scope="row">{category}</th>
                  <td class="num">{c.sent}</td>
                  <td class="num">{c.delivered}</td>
                  <td class="num">{c.read}</td>
                  <td class="num">{c.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Failures by error code</h3>
          <p>
            {Object.entries(funnel.failedByCode)
              .map(([code, n]) => `${code}: ${n}`)
              .join(', ') || 'None.'}
          </p>
        </>
      )}
    </>
  );
}
