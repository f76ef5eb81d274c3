#!/usr/bin/env node
/*
 * Local S3-compatible server for development and tests (s3rver), used when no
 * `minio` binary is on PATH. It accepts the MinIO default credentials
 * (minioadmin/minioadmin) besides s3rver's own, so `.env.example` works with
 * either server. Not for production: use MinIO (see docs/deployment.md).
 *
 * Usage: node scripts/s3-server.js <dataDir> [port] [address]
 */
'use strict';
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [, , directory, port = '9000', address = '127.0.0.1'] = process.argv;
if (!directory) {
  process.stderr.write('usage: s3-server.js <dataDir> [port] [address]\n');
  process.exit(2);
}
DUMMY_ACCOUNT.createKeyPair(process.env.S3_ACCESS_KEY || 'minioadmin', process.env.S3_SECRET_KEY || 'minioadmin');

const server = new S3rver({ directory, port: Number(port), address, silent: true, vhostBuckets: false });
server
  .run()
  .then(({ port: bound }) => process.stdout.write(`s3rver listening on ${address}:${bound} (data in ${directory})\n`))
  .catch((err) => {
    process.stderr.write(`s3rver failed to start: ${err.message}\n`);
    process.exit(1);
  });
// s3rver's close() waits for idle keep-alive connections, which busy clients never leave idle:
// give in-flight requests a moment, then go (objects are written to disk before they are answered).
const stop = () => {
  server.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 300);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
