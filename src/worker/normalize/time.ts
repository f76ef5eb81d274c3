import { isoFromUnix, type Json } from '../../meta';

/** Meta's unix-seconds timestamp as ISO-8601 UTC, or null. */
export function isoOrNull(value: Json | undefined): string | null {
  return isoFromUnix(value) ?? null;
}
