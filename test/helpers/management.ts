/** The local broker's management API, for what AMQP cannot say (policies, a queue's effective settings). */
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** `port`: a node's management port (the local stack's 15672 unless another stack is meant). */
async function call(method: string, path: string, body?: unknown, port = 15672): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/api${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  const text = await res.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export interface QueueInfo {
  name: string;
  policy?: string;
  arguments: Record<string, unknown>;
  effective_policy_definition?: Record<string, unknown>;
  messages?: number;
}

export function putPolicy(vhost: string, name: string, policy: { pattern: string; definition: Record<string, unknown>; priority: number }): Promise<unknown> {
  return call('PUT', `/policies/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`, { ...policy, 'apply-to': 'queues' });
}

export async function queuesOf(vhost: string, port?: number): Promise<QueueInfo[]> {
  return (await call('GET', `/queues/${encodeURIComponent(vhost)}`, undefined, port)) as QueueInfo[];
}

/**
 * RabbitMQ 4's default on 3.10: every quorum queue drops a message delivered more than 20 times
 * when it has no dead-letter target (priority 0: a policy of the service's own replaces it).
 */
export function rabbitmq4Defaults(vhost: string): Promise<unknown> {
  return putPolicy(vhost, 'rabbitmq-4-default-delivery-limit', { pattern: '.*', definition: { 'delivery-limit': 20 }, priority: 0 });
}
