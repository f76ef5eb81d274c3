#!/usr/bin/env node
// Adds the platform-specific optional packages (darwin, win32, ...) that `npm install` leaves out of
// package-lock.json when the registry it talks to only serves the packages this platform can use.
// `npm ci` refuses a lock file without them ("Missing: @swc/core-darwin-arm64@ from lock file").
// Each added entry carries the os / cpu / libc it is for, so `npm ci` skips it without a download.
// Run after every `npm install` that changes the lock file: `node scripts/complete-lockfile.js`.
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const OS = ['darwin', 'win32', 'linux', 'android', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64', 'wasm32', 'mips64el'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.find((part) => CPU.includes(part)) ?? (parts.includes('universal') ? undefined : null);
  if (!os || cpu === null) return null;
  const platform = { os: [os] };
  if (cpu) platform.cpu = [cpu];
  if (os === 'linux') platform.libc = [parts.some((part) => part.startsWith('musl')) ? 'musl' : 'glibc'];
  return platform;
}

function resolves(packages, fromPath, name) {
  let base = fromPath;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return true;
    if (!base) return false;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

const lockPath = join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
let added = 0;

for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    if (resolves(packages, path, name)) continue;
    const platform = platformOf(name);
    if (!platform) {
      console.warn(`skipped ${name}@${version} (needed by ${path || 'the root'}): platform not recognised`);
      continue;
    }
    const at = path ? `${path}/node_modules/${name}` : `node_modules/${name}`;
    packages[at] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added += 1;
  }
}

lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform-specific optional package(s) added`);
