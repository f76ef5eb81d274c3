import { ValidationError } from '../errors';
import { readEnvelope, type Envelope } from './envelope';

/**
 * What a value stands for in the envelope, and so what of it the scan keeps: the fields that
 * `readEnvelope` and `checkEnvelopeBounds` read, and nothing else.
 */
type Role = 'root' | 'entries' | 'entry' | 'changes' | 'change' | 'value' | 'ids' | 'counted' | 'scalar' | 'skip';

/** Per object role, the keys kept and the role of their values; any other key is skipped. */
const KEPT: Partial<Record<Role, Readonly<Record<string, Role>>>> = {
  root: { object: 'scalar', entry: 'entries' },
  entry: { id: 'scalar', changes: 'changes' },
  change: { field: 'scalar', value: 'value' },
  value: { metadata: 'ids', recipient: 'ids', messages: 'counted', statuses: 'counted', message_echoes: 'counted', user_id_update: 'counted' },
  ids: { phone_number_id: 'scalar' },
};

/** Per array role, the role of its elements. */
const ELEMENTS: Partial<Record<Role, Role>> = { entries: 'entry', changes: 'change' };

/** Kept names are at most 15 characters: a key written in more bytes than 6 a character (`\uXXXX`) is none of them. */
const MAX_KEY_BYTES = 96;
/**
 * A kept string longer than this is not decoded: it stands as `LONG`, which is what every check
 * makes of it (not a valid id, not Meta's object, a non-empty field), since it decodes to at least
 * a sixth as many characters, far past the 64 an id may have.
 */
const MAX_SCALAR_BYTES = 4096;
const LONG = '(a string longer than 4 KiB)';

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A container kept in the skeleton (the envelope's own, a few levels deep at most). */
interface Frame {
  object: boolean;
  node: Record<string, unknown> | unknown[];
  role: Role;
  /** The key being read, when it is one of KEPT[role]. */
  key: string | undefined;
}

/**
 * The envelope of a webhook read straight from its bytes, as `parseEnvelope` reads it, for the
 * checks made before the signature is verified: the JSON is validated as JSON.parse validates it,
 * but only the fields the envelope checks read are made into values (ids, field names, how many
 * updates). The rest of the body is walked over, never decoded, copied or parsed, so a sender who
 * cannot sign costs the receiver no more than its bytes (no multi-megabyte strings, no object
 * graph). The payload itself is parsed once authenticated; the two must then agree
 * (`sameAccounts`), so a difference between this scan and JSON.parse can only refuse a webhook.
 *
 * `maxCount`: arrays that are only counted (messages, statuses…) are kept to this many elements,
 * which is all the bounds need to know.
 */
export function scanEnvelope(raw: Buffer, maxCount: number): Envelope {
  return readEnvelope(new Scanner(raw, maxCount).run());
}

/** True when a scanned envelope names the same accounts and phone numbers, entry by entry, as the parsed one. */
export function sameAccounts(scanned: Envelope, parsed: Envelope): boolean {
  return (
    scanned.entries.length === parsed.entries.length &&
    scanned.entries.every((entry, i) => {
      const other = parsed.entries[i]!;
      return entry.accountId === other.accountId && entry.phoneNumberIds.join('\n') === other.phoneNumberIds.join('\n');
    })
  );
}

/**
 * One pass over the bytes. Containers of the envelope (a few levels) are frames with a node in the
 * skeleton; every container below or beside them is skipped, its nesting kept as one byte a level,
 * so a body nested a million deep costs a megabyte, not a million objects.
 */
class Scanner {
  private pos = 0;
  private readonly frames: Frame[] = [];
  private skipped = new Uint8Array(64);
  private skipDepth = 0;

  constructor(
    private readonly raw: Buffer,
    private readonly maxCount: number,
  ) {}

  run(): unknown {
    const raw = this.raw;
    let role: Role = 'root';
    this.space();
    for (;;) {
      // A value starts at `pos`, in the role its container gives it.
      let value: unknown;
      const c = raw[this.pos];
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.pos++;
        const object = c === OPEN_OBJECT;
        this.open(object, role);
        this.space();
        if (raw[this.pos] === (object ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          this.pos++;
          value = this.close();
        } else {
          role = object ? this.key() : this.elementRole();
          continue;
        }
      } else if (c === QUOTE) {
        value = this.string(role === 'scalar', MAX_SCALAR_BYTES) ?? (role === 'skip' || role === 'scalar' ? undefined : '');
      } else if (c === 0x2d || isDigit(c)) {
        value = this.number(role === 'scalar') ?? (role === 'skip' ? undefined : 0);
      } else {
        value = this.literal();
      }

      // The value is complete: give it to its container, then close every container it completes.
      for (;;) {
        if (this.frames.length === 0) {
          this.space();
          if (this.pos !== raw.length) throw malformed();
          return value;
        }
        const object = this.inObject();
        this.keep(value);
        this.space();
        const next = raw[this.pos++];
        if (next === 0x2c) {
          this.space();
          role = object ? this.key() : this.elementRole();
          break;
        }
        if (next !== (object ? CLOSE_OBJECT : CLOSE_ARRAY)) throw malformed();
        value = this.close();
      }
    }
  }

  private open(object: boolean, role: Role): void {
    if (role !== 'skip') {
      this.frames.push({ object, node: object ? {} : [], role, key: undefined });
      return;
    }
    if (this.skipDepth === this.skipped.length) {
      const grown = new Uint8Array(this.skipped.length * 2);
      grown.set(this.skipped);
      this.skipped = grown;
    }
    this.skipped[this.skipDepth++] = object ? 1 : 0;
  }

  /** Closes the innermost container: its node, or undefined for a skipped one. */
  private close(): unknown {
    if (this.skipDepth > 0) {
      this.skipDepth--;
      return undefined;
    }
    return this.frames.pop()!.node;
  }

  private inObject(): boolean {
    return this.skipDepth > 0 ? this.skipped[this.skipDepth - 1] === 1 : this.frames[this.frames.length - 1]!.object;
  }

  /** Reads `"key":` and returns the role of the value that follows. */
  private key(): Role {
    if (this.raw[this.pos] !== QUOTE) throw malformed();
    const frame = this.skipDepth > 0 ? undefined : this.frames[this.frames.length - 1];
    const kept = frame && KEPT[frame.role];
    const key = this.string(kept !== undefined, MAX_KEY_BYTES);
    this.space();
    if (this.raw[this.pos++] !== 0x3a) throw malformed();
    this.space();
    if (!frame) return 'skip';
    frame.key = kept && key !== undefined && Object.hasOwn(kept, key) ? key : undefined;
    return frame.key === undefined ? 'skip' : kept![frame.key]!;
  }

  private elementRole(): Role {
    if (this.skipDepth > 0) return 'skip';
    return ELEMENTS[this.frames[this.frames.length - 1]!.role] ?? 'skip';
  }

  /** Gives a complete value to the innermost container, when that is a frame and the value is kept. */
  private keep(value: unknown): void {
    if (this.skipDepth > 0) return;
    const frame = this.frames[this.frames.length - 1]!;
    const node = frame.node;
    if (!Array.isArray(node)) {
      if (frame.key !== undefined) node[frame.key] = value;
    } else if (frame.role === 'counted') {
      if (node.length <= this.maxCount) node.push(null);
    } else if (ELEMENTS[frame.role]) {
      node.push(value);
    }
  }

  /**
   * A string token, validated as JSON.parse validates it (no raw control character, only JSON's
   * escapes). Decoded when `decode`: as written, or `LONG` past MAX_SCALAR_BYTES (undefined past a
   * smaller limit, for keys).
   */
  private string(decode: boolean, maxBytes: number): string | undefined {
    const raw = this.raw;
    const start = this.pos + 1;
    let i = start;
    let escaped = false;
    for (;;) {
      const c = raw[i];
      if (c === QUOTE) break;
      if (c === undefined || c < 0x20) throw malformed();
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      escaped = true;
      const e = raw[i + 1];
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) if (!isHex(raw[i + k])) throw malformed();
        i += 6;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
        i += 2;
      } else {
        throw malformed();
      }
    }
    this.pos = i + 1;
    if (!decode) return undefined;
    if (i - start > maxBytes) return maxBytes === MAX_SCALAR_BYTES ? LONG : undefined;
    return escaped ? (JSON.parse(raw.toString('utf8', start - 1, i + 1)) as string) : raw.toString('utf8', start, i);
  }

  /** A number token by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
  private number(decode: boolean): number | undefined {
    const raw = this.raw;
    const start = this.pos;
    if (raw[this.pos] === 0x2d) this.pos++;
    if (raw[this.pos] === 0x30) this.pos++;
    else if (!this.digits()) throw malformed();
    if (raw[this.pos] === 0x2e) {
      this.pos++;
      if (!this.digits()) throw malformed();
    }
    if (raw[this.pos] === 0x65 || raw[this.pos] === 0x45) {
      this.pos++;
      if (raw[this.pos] === 0x2b || raw[this.pos] === 0x2d) this.pos++;
      if (!this.digits()) throw malformed();
    }
    return decode ? Number(raw.toString('latin1', start, this.pos)) : undefined;
  }

  private digits(): boolean {
    const start = this.pos;
    while (isDigit(this.raw[this.pos])) this.pos++;
    return this.pos > start;
  }

  private literal(): boolean | null {
    for (const [word, value] of LITERALS) {
      const end = this.pos + word.length;
      if (end <= this.raw.length && word.compare(this.raw, this.pos, end) === 0) {
        this.pos = end;
        return value;
      }
    }
    throw malformed();
  }

  private space(): void {
    for (;;) {
      const c = this.raw[this.pos];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }
}

const LITERALS: ReadonlyArray<readonly [Buffer, boolean | null]> = [
  [Buffer.from('true'), true],
  [Buffer.from('false'), false],
  [Buffer.from('null'), null],
];

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function malformed(): ValidationError {
  return new ValidationError('malformed_json', 'Body is not valid JSON');
}
