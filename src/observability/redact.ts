/**
 * The one redaction step every log line goes through: no phone number, wa_id, message text,
 * customer name, token, secret, signature or URL query string reaches the log pipeline.
 *
 * Structured fields are masked by name; every other string is scanned for the shapes of
 * secrets and phone numbers. Identifier fields that are ours or Meta's account ids (never a
 * person's) are exempt from the phone scan so operators can still search by them.
 */
const MASK = '[redacted]';

const SENSITIVE_KEY =
  /^(phone|phones|phone_number|phonenumber|wa_?id|from|to|recipient(_?id)?|body|text|caption|name|profile|profile_?name|display_?name|formatted_name|first_name|last_name|email|emails|address|addresses|contacts|latitude|longitude|user_?id)$/i;
const SECRET_KEY = /(token|secret|signature|password|authorization|cookie|api[_-]?key)/i;
const SAFE_ID_KEY =
  /^(tenant_?id|tenant|business_?account_?id|phone_?number_?id|account_?id|message_?id|event_?id|correlation_?id|key|raw_?key|bucket|code|route|queue|routing_?key|method|status|level|component|source|timestamp)$/i;

/**
 * Names that are a person's in Meta's payloads (`from`, `to`) but a range in ours (a replay's days):
 * masked unless the value is plainly a date or a time, which no phone number or wa_id looks like.
 */
const AMBIGUOUS_KEY = /^(from|to)$/i;
const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

const URL_QUERY = /(https?:\/\/[^\s?#"'<>]+)\?[^\s"'<>]*/g;
const BEARER = /\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/=-]+/gi;
const META_TOKEN = /\bEAA[A-Za-z0-9]{16,}\b/g;
const HMAC = /\bsha256=[0-9a-fA-F]{16,}/g;
const PHONE = /(?<![\w.])\+?\d[\d ()-]{6,18}\d(?![\w.])/g;
/** What every pattern above needs at least one of; a string without any is returned as it is. */
const MAYBE_SENSITIVE = /[\d?]|bearer|oauth|EAA|sha256=/i;

export function redactString(value: string, scanPhones = true): string {
  if (!MAYBE_SENSITIVE.test(value)) return value;
  let out = value.replace(URL_QUERY, `$1?${MASK}`).replace(BEARER, `$1 ${MASK}`).replace(META_TOKEN, MASK).replace(HMAC, `sha256=${MASK}`);
  if (scanPhones) out = out.replace(PHONE, (match) => (match.replace(/\D/g, '').length >= 7 ? '[phone]' : match));
  return out;
}

type KeyKind = 'masked' | 'safe-id' | 'other';
const keyKinds = new Map<string, KeyKind>();
const KEY_KINDS_KEPT = 1_000;

/** A field name's kind, remembered: log lines use the same few names over and over. */
function kindOf(key: string): KeyKind {
  let kind = keyKinds.get(key);
  if (kind) return kind;
  kind = SECRET_KEY.test(key) || SENSITIVE_KEY.test(key) ? 'masked' : SAFE_ID_KEY.test(key) ? 'safe-id' : 'other';
  if (keyKinds.size < KEY_KINDS_KEPT) keyKinds.set(key, kind);
  return kind;
}

export function redact(value: unknown, key = '', depth = 0): unknown {
  const kind = key ? kindOf(key) : 'other';
  if (kind === 'masked' && typeof value === 'string' && AMBIGUOUS_KEY.test(key) && DATE_OR_TIME.test(value)) return value;
  if (kind === 'masked') return value === undefined || value === null ? value : MASK;
  if (typeof value === 'string') return redactString(value, kind !== 'safe-id');
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => redact(item, '', depth + 1));
  if (value instanceof Error) return redactString(`${value.name}: ${value.message}`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A key `__proto__` (JSON.parse makes it an own key) would set the prototype: defined as a field instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: redact(v, k, depth + 1), enumerable: true, writable: true, configurable: true });
    else out[k] = redact(v, k, depth + 1);
  }
  return out;
}
