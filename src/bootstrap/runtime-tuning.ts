import { setFlagsFromString } from 'node:v8';

/**
 * The young generation's size, in MB, past which V8 collects short-lived Buffers early (before
 * the process holds more than twice its semi-space in dead request chunks).
 *
 * V8 13.6 (Node.js 24) raised the default of `--scavenger-max-new-space-capacity-mb` from 8 to 32,
 * which moved the young-ArrayBuffer collection trigger from 32 MB to 128 MB (nodejs/node#61967):
 * every socket read of a request body is a Buffer of its own, so a receiver reading large bodies
 * held up to 125 MB of dead chunks before V8 freed them, and a flood of 150 hostile 3.4 MB POSTs
 * grew its RSS by 70–126 MB where Node.js 20 and 22 grow a few MB. Setting it back to 8 restores
 * their behaviour (measured in test/integration/hostile-input.test.ts).
 */
const YOUNG_GENERATION_MB = 8;

/**
 * Runtime settings made before anything else allocates. The flag is read when a backing store is
 * allocated, so setting it at start-up is as good as passing it on the command line; V8 before 12
 * (Node.js 20) has no such flag and collects young Buffers early already, so it is left alone there.
 */
export function tuneRuntime(v8Version = process.versions.v8): void {
  const major = Number(v8Version.split('.')[0]);
  if (major >= 12) setFlagsFromString(`--scavenger-max-new-space-capacity-mb=${YOUNG_GENERATION_MB}`);
}
