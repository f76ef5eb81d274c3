import { ValidationError } from '../errors';
import { isObject, obj, str } from './read';
import { WHATSAPP_OBJECT, type Change, type EntryRef, type JsonObject, type WebhookPayload } from './webhook.types';

export interface Envelope {
  payload: WebhookPayload;
  entries: EntryRef[];
}

/**
 * Parses the exact bytes Meta sent and checks the envelope far enough to resolve tenants and
 * list updates: `object`, `entry[].id`, `entry[].changes[].field`. Anything inside `value` is
 * left for the worker, which never refuses an unknown shape.
 */
export function parseEnvelope(raw: Buffer): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    // The parser's own message quotes the body, so it is not repeated here.
    throw new ValidationError('malformed_json', 'Body is not valid JSON');
  }
  return readEnvelope(parsed);
}

/**
 * The envelope checks of `parseEnvelope` on a value already parsed: by JSON.parse, or by
 * `scanEnvelope` (a skeleton holding only the fields read here, from bytes not yet authenticated).
 */
export function readEnvelope(parsed: unknown): Envelope {
  if (!isObject(parsed)) throw invalid('Body must be a JSON object');
  const object = parsed.object;
  if (typeof object !== 'string') throw invalid('Field "object" is required and must be a string');
  if (object !== WHATSAPP_OBJECT) {
    throw new ValidationError('unsupported_object', `Webhooks for object "${object.slice(0, 64)}" are not handled here`, 422);
  }
  if (!Array.isArray(parsed.entry)) throw invalid('Field "entry" must be an array');
  if (parsed.entry.length === 0) throw new ValidationError('empty_entry', 'Field "entry" is empty: there is no account to verify or process');

  const entries = parsed.entry.map((entry, index): EntryRef => {
    if (!isObject(entry)) throw invalid(`entry[${index}] must be an object`);
    const accountId = str(entry.id);
    if (!accountId) throw invalid(`entry[${index}].id is required`);
    if (!Array.isArray(entry.changes)) throw invalid(`entry[${index}].changes must be an array`);
    const changes = entry.changes.map((change, c) => checkChange(change, index, c));
    const phoneNumberIds = [...new Set(changes.map((change) => phoneNumberIdOf(obj(change.value))).filter(isString))];
    return { index, accountId, time: str(entry.time), phoneNumberIds, changes };
  });
  return { payload: parsed as WebhookPayload, entries };
}

/** The business phone number a change is for: `metadata`, or `recipient` in a `messaging_handovers` change. */
export function phoneNumberIdOf(value: JsonObject | undefined): string | undefined {
  return str(obj(value?.metadata)?.phone_number_id) ?? str(obj(value?.recipient)?.phone_number_id);
}

function checkChange(change: unknown, entry: number, index: number): Change {
  if (!isObject(change)) throw invalid(`entry[${entry}].changes[${index}] must be an object`);
  if (typeof change.field !== 'string' || change.field === '') throw invalid(`entry[${entry}].changes[${index}].field is required`);
  if (change.value !== undefined && !isObject(change.value)) throw invalid(`entry[${entry}].changes[${index}].value must be an object`);
  return change as Change;
}

function invalid(message: string): ValidationError {
  return new ValidationError('invalid_envelope', message);
}

function isString(value: string | undefined): value is string {
  return value !== undefined;
}
