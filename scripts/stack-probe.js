#!/usr/bin/env node
/*
 * Readiness probe for the local stack: exits 0 only when the service accepts
 * real work (Redis: SET/GET; RabbitMQ: a confirmed publish to a temporary
 * queue; S3: create a bucket, put and get an object; PostgreSQL: a query in the
 * named database), not merely when its port is open.
 *
 * Usage: node scripts/stack-probe.js redis|amqp|s3|postgres <url>
 */
'use strict';

const TIMEOUT_MS = 3000;

async function probeRedis(url) {
  const { Redis } = require('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: TIMEOUT_MS, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.set('stack:probe', '1', 'EX', 10);
    if ((await redis.get('stack:probe')) !== '1') throw new Error('redis did not return what was written');
  } finally {
    redis.disconnect();
  }
}

async function probeAmqp(url) {
  const { Connection } = require('rabbitmq-client');
  const rabbit = new Connection({ url, connectionTimeout: TIMEOUT_MS, acquireTimeout: TIMEOUT_MS, retryLow: 100, retryHigh: 200 });
  rabbit.on('error', () => {});
  try {
    await rabbit.onConnect(TIMEOUT_MS);
    const { queue } = await rabbit.queueDeclare({ exclusive: true });
    const pub = rabbit.createPublisher({ confirm: true });
    await pub.send(queue, 'probe');
    await pub.close();
  } finally {
    await rabbit.close();
  }
}

async function probeS3(url) {
  const { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } = require('@aws-sdk/client-s3');
  const s3 = new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.S3_ACCESS_KEY || 'minioadmin', secretAccessKey: process.env.S3_SECRET_KEY || 'minioadmin' },
    requestHandler: { requestTimeout: TIMEOUT_MS, connectionTimeout: TIMEOUT_MS },
    maxAttempts: 1,
  });
  const Bucket = 'stack-probe';
  try {
    await s3.send(new CreateBucketCommand({ Bucket })).catch((err) => {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name)) throw err;
    });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'probe', Body: 'probe' }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'probe' }));
    if ((await got.Body.transformToString()) !== 'probe') throw new Error('s3 did not return what was written');
  } finally {
    s3.destroy();
  }
}

async function probePostgres(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT 1 AS one');
    if (rows[0].one !== 1) throw new Error('postgres did not answer the query');
  } finally {
    await client.end().catch(() => {});
  }
}

const probes = { redis: probeRedis, amqp: probeAmqp, s3: probeS3, postgres: probePostgres };
const [, , kind, url] = process.argv;
if (!probes[kind] || !url) {
  process.stderr.write('usage: stack-probe.js redis|amqp|s3|postgres <url>\n');
  process.exit(2);
}
const timer = setTimeout(() => {
  process.stderr.write(`${kind}: no answer within ${TIMEOUT_MS * 2} ms\n`);
  process.exit(1);
}, TIMEOUT_MS * 2);
probes[kind](url).then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${kind}: ${err.message}\n`);
    process.exit(1);
  },
);
