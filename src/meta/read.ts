import type { Json, JsonObject } from './webhook.types';

/** Defensive readers for Meta's loosely typed payloads. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: Json | undefined): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

export function arr(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function objects(value: Json | undefined): JsonObject[] {
  return arr(value).filter(isObject);
}

/** A string, or a number written as one (Meta sends ids, timestamps and sizes both ways). */
export function str(value: Json | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function num(value: Json | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

export function bool(value: Json | undefined): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** Meta's unix-seconds timestamp (string or number) as ISO-8601 UTC, or undefined. */
export function isoFromUnix(value: Json | undefined): string | undefined {
  const seconds = num(value);
  if (seconds === undefined || seconds <= 0 || seconds > 1e11) return undefined;
  return new Date(seconds * 1000).toISOString();
}
