#!/usr/bin/env node
/*
 * Signs a webhook payload the way Meta does (X-Hub-Signature-256 over the exact file bytes) and
 * POSTs it to the receiver.
 *
 *   npm run webhook:send -- <payload.json> [--url http://127.0.0.1:3000/webhook] [--tenant demo] [--secret <appSecret>]
 *
 * The app secret comes from --secret, or from the tenant (--tenant, default: the first) in
 * TENANTS_FILE (default config/tenants.demo.json).
 */
'use strict';
const { createHmac } = require('node:crypto');
const { readFileSync } = require('node:fs');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

const file = process.argv[2];
if (!file || file.startsWith('--')) {
  process.stderr.write('usage: npm run webhook:send -- <payload.json> [--url URL] [--tenant ID] [--secret SECRET]\n');
  process.exit(2);
}
const url = arg('url', `http://127.0.0.1:${process.env.PORT || 3000}/webhook`);
let secret = arg('secret');
if (!secret) {
  const tenants = JSON.parse(readFileSync(process.env.TENANTS_FILE || 'config/tenants.demo.json', 'utf8'));
  const wanted = arg('tenant');
  const tenant = wanted ? tenants.find((t) => t.id === wanted) : tenants[0];
  if (!tenant) {
    process.stderr.write(`no tenant ${wanted} in the tenants file\n`);
    process.exit(2);
  }
  secret = tenant.appSecret;
}
const body = readFileSync(file);
const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature } })
  .then(async (res) => {
    process.stdout.write(`${res.status} ${await res.text()}\n`);
    process.exit(res.ok ? 0 : 1);
  })
  .catch((err) => {
    process.stderr.write(`request failed: ${err.message}\n`);
    process.exit(1);
  });
