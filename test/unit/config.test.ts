import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeVariables, loadConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { renderConfigDoc, renderEnvExample } from '../../scripts/config-docs';

const minimal = { MINIO_ACCESS_KEY: 'key', MINIO_SECRET_KEY: 'secret', TENANTS_FILE: 'tenants.json' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('when only the required variables are set, then every other one takes its documented default', () => {
    const config = loadConfig(minimal);
    expect(config.http.port).toBe(3000);
    expect(config.role).toBe('all');
    expect(config.s3.rawBucket).toBe('webhooks-inbound');
    expect(config.s3.mediaBucket).toBe('media-inbound');
    expect(config.graph.baseUrl).toBe('https://graph.facebook.com');
    expect(config.rabbitmq.retryDelaysMs).toEqual([5000, 30000, 300000]);
    expect(config.http.bodyLimitBytes).toBeGreaterThan(3_000_000);
    expect(config.s3.useSsl).toBe(false);
  });

  it('when a required secret is missing, then start-up fails naming it', () => {
    const problems = problemsOf({ ...minimal, MINIO_SECRET_KEY: undefined });
    expect(problems).toEqual([expect.stringMatching(/^MINIO_SECRET_KEY: .*it is not set/)]);
  });

  it('when several variables are wrong, then all of them are named at once', () => {
    const problems = problemsOf({ ...minimal, MINIO_PORT: 'abc', ROLE: 'both', WHATSAPP_GRAPH_URL: 'ftp://x', MINIO_USE_SSL: 'maybe' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['MINIO_PORT', 'MINIO_USE_SSL', 'ROLE', 'WHATSAPP_GRAPH_URL']);
    expect(problems.find((p) => p.startsWith('MINIO_PORT'))).toContain('got "abc"');
  });

  it('when a secret is malformed, then its value is not echoed', () => {
    const problems = problemsOf({ ...minimal, REDIS_URL: 'http://user:hunter2@redis' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^REDIS_URL: /);
    expect(problems[0]).not.toContain('hunter2');
  });

  it('when RABBITMQ_URL names the nodes of a cluster, then the client gets every host, and URLs that name different brokers are refused without echoing them', () => {
    const cluster = loadConfig({ ...minimal, RABBITMQ_URL: 'amqp://wws:pw@rabbit-0:5672/prod, amqp://wws:pw@rabbit-1/prod,amqp://wws:pw@rabbit-2:5673/prod' });
    expect(cluster.rabbitmq.hosts).toEqual(['rabbit-0:5672', 'rabbit-1:5672', 'rabbit-2:5673']);
    expect(cluster.rabbitmq.vhost).toBe('prod');
    expect(loadConfig(minimal).rabbitmq).toMatchObject({ hosts: ['127.0.0.1:5672'], vhost: '/' });
    const problems = problemsOf({ ...minimal, RABBITMQ_URL: 'amqp://wws:hunter2@rabbit-0/prod,amqp://other:hunter2@rabbit-1/prod' });
    expect(problems).toEqual([expect.stringMatching(/^RABBITMQ_URL: the URLs must differ only in host and port/)]);
    expect(problems[0]).not.toContain('hunter2');
  });

  it('when Redis is behind Sentinels, then both the Sentinels and the master name are required, and the URL keeps the credentials', () => {
    const config = loadConfig({
      ...minimal,
      REDIS_URL: 'redis://:pw@ignored:6379/2',
      REDIS_SENTINELS: 'sentinel-0:26379,sentinel-1:26380',
      REDIS_SENTINEL_NAME: 'wws',
    });
    expect(config.redis.sentinels).toEqual({
      nodes: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26380 },
      ],
      name: 'wws',
      password: undefined,
    });
    expect(problemsOf({ ...minimal, REDIS_SENTINELS: 'sentinel-0:26379' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/),
    ]);
    expect(problemsOf({ ...minimal, REDIS_SENTINELS: 'sentinel-0', REDIS_SENTINEL_NAME: 'wws' })).toEqual([
      expect.stringMatching(/^REDIS_SENTINELS: expected host:port pairs/),
    ]);
  });

  it('when neither a tenants file nor the Tenant Service is configured, then start-up says to set one', () => {
    expect(problemsOf({ ...minimal, TENANTS_FILE: undefined })).toEqual([expect.stringMatching(/^TENANTS_FILE: .*TENANT_SERVICE_URL/)]);
    expect(loadConfig({ ...minimal, TENANTS_FILE: undefined, TENANT_SERVICE_URL: 'http://tenants:8080/' }).tenants.serviceUrl).toBe('http://tenants:8080');
  });

  it('when statuses would be forgotten before the dedup marks, then start-up says STATUS_TTL_SECONDS must be at least DEDUP_TTL_SECONDS', () => {
    const problems = problemsOf({ ...minimal, DEDUP_TTL_SECONDS: '86400', STATUS_TTL_SECONDS: '3600' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^STATUS_TTL_SECONDS: must be at least DEDUP_TTL_SECONDS \(86400\)/);
    expect(loadConfig({ ...minimal, DEDUP_TTL_SECONDS: '3600', STATUS_TTL_SECONDS: '3600' }).statusTtlSeconds).toBe(3600);
  });

  it('when the schema changes, then .env.example and docs/configuration.md must be regenerated (npm run docs:config)', () => {
    const root = join(__dirname, '../..');
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample());
    expect(readFileSync(join(root, 'docs/configuration.md'), 'utf8')).toBe(renderConfigDoc());
    for (const v of describeVariables()) expect(v.description.length).toBeGreaterThan(10);
  });

  it('when .env.example is used as it is, then it is a valid configuration', () => {
    const env = Object.fromEntries(
      readFileSync(join(__dirname, '../../.env.example'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});
