import { writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchTenant } from './payloads';

/** Five tenants with rate limits out of the way, written to the run's tenants file. */
export function benchTenants(run: string, dir: string): { tenants: BenchTenant[]; file: string } {
  const tenants: BenchTenant[] = Array.from({ length: 5 }, (_, i) => ({
    id: `bench${i}`,
    businessAccountId: `77000000000${run.length}${i}`,
    appSecret: `bench-secret-${i}`,
  }));
  const file = join(dir, 'tenants.json');
  writeFileSync(
    file,
    JSON.stringify(
      tenants.map((t) => ({ ...t, name: t.id, phoneNumberIds: [], verifyToken: `v-${t.id}`, accessToken: `token-${t.id}`, rateLimitPerMinute: 10_000_000 })),
    ),
  );
  return { tenants, file };
}

/** AMQP ports of the stack's RabbitMQ nodes, as scripts/stack.sh numbers them. */
function amqpPorts(): number[] {
  const first = Number(process.env.AMQP_PORT ?? 5672);
  return Array.from({ length: Number(process.env.STACK_RABBITMQ_NODES ?? 1) }, (_, i) => first + i);
}

/** The environment of the service under test: the local stack, the run's own vhost, buckets and key prefix, and BENCH_ENV_* settings. */
export function serviceEnv(run: string, vhost: string, tenantsFile: string, graphUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ENV_FILE: '/nonexistent',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bench:${run}:`,
    // The stack's broker: one node, or every node of a cluster (STACK_RABBITMQ_NODES, from AMQP_PORT on).
    RABBITMQ_URL: amqpPorts()
      .map((port) => `amqp://guest:guest@127.0.0.1:${port}/${vhost}`)
      .join(','),
    RABBITMQ_MANAGEMENT_URL: `http://guest:guest@127.0.0.1:${amqpPorts()[0]! + 10_000}`,
    MINIO_ENDPOINT: '127.0.0.1',
    MINIO_PORT: '9000',
    MINIO_ACCESS_KEY: 'minioadmin',
    MINIO_SECRET_KEY: 'minioadmin',
    MINIO_BUCKET_RAW: `bench-raw-${run}`,
    MINIO_BUCKET_MEDIA: `bench-media-${run}`,
    TENANTS_FILE: tenantsFile,
    WHATSAPP_GRAPH_URL: graphUrl,
    PORT: '0',
    WORKER_PORT: '0',
    ...Object.fromEntries(
      Object.entries(process.env)
        .filter(([name]) => name.startsWith('BENCH_ENV_'))
        .map(([name, value]) => [name.slice('BENCH_ENV_'.length), value]),
    ),
  };
}

export function machine(): { cpu: string; cores: number; memoryGb: number; node: string; kernel: string } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release() };
}
