import { listUpdates, parseEnvelope } from '../../src/meta';
import { buildRawKey } from '../../src/receiver';
import { fixture, readFixtureFile } from '../helpers/fixtures';

const parse = (name: string) => parseEnvelope(readFixtureFile(name));

describe('envelope and updates', () => {
  it('when a message arrives, then its dedup key is its wamid', () => {
    const [update] = listUpdates(parse('message-text__pywa.json').entries);
    expect(update).toMatchObject({ kind: 'message', type: 'text', ref: '0.0.m0' });
    expect(update?.key).toBe(`m:${update?.messageId}`);
  });

  it('when a status arrives, then its key is wamid + status, and a group read is per participant', () => {
    const [sent] = listUpdates(parse('status-sent__pywa.json').entries);
    expect(sent?.key).toBe(`s:${sent?.messageId}:sent`);
    const [groupRead] = listUpdates(parse('status-read-group__pywa.json').entries);
    expect(groupRead?.key).toBe('s:<WHATSAPP_MESSAGE_ID>:read:<GROUP_PARTICIPANT_USER_PHONE_NUMBER>');
  });

  it('when a field other than messages arrives, then it is one notification keyed by account, field, time and content', () => {
    const updates = listUpdates(parse('template-status-update-approved__pywa.json').entries);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({ kind: 'notification', type: 'message_template_status_update' });
    expect(updates[0]?.key).toMatch(/^n:[^:]+:message_template_status_update:[^:]*:[A-Za-z0-9_-]{22}$/);
  });

  it('when a message has no type key, then its type is inferred from its content', () => {
    const updates = listUpdates(parse('multi-changes-text-location-reaction-sticker-user-preferences__piusalfred.json').entries);
    expect(updates.map((u) => `${u.kind}:${u.type}`)).toEqual([
      'message:text',
      'message:location',
      'message:reaction',
      'message:sticker',
      'notification:user_preferences',
    ]);
  });

  it('when a calls webhook carries statuses, then it stays one notification (only the messages field has message statuses)', () => {
    const updates = listUpdates(parse('calls-status-ringing__pywa.json').entries);
    expect(updates.map((u) => u.kind)).toEqual(['notification']);
  });

  it('when the same bytes are listed twice, then refs and keys are identical (retries address the same updates)', () => {
    const bytes = readFixtureFile('multi-messages-text-and-reaction__piusalfred.json');
    const a = listUpdates(parseEnvelope(bytes).entries).map((u) => [u.ref, u.key]);
    const b = listUpdates(parseEnvelope(Buffer.from(bytes)).entries).map((u) => [u.ref, u.key]);
    expect(a).toEqual(b);
  });

  it('when a raw key is built, then it names tenant, day, time and first update, and differs for different bytes', () => {
    const f = fixture('status-read__pywa.json');
    const updates = listUpdates(parseEnvelope(f.bytes).entries);
    const at = new Date('2026-11-23T10:00:00.123Z');
    const key = buildRawKey('acme', at, updates, f.bytes);
    expect(key).toMatch(/^acme\/2026-11-23\/1795428000123-[A-Za-z0-9._=-]+-read-[0-9a-f]{8}\.json$/);
    expect(buildRawKey('acme', at, updates, Buffer.concat([f.bytes, Buffer.from(' ')]))).not.toBe(key);
    const batch = listUpdates(parse('multi-messages-text-and-reaction__piusalfred.json').entries);
    expect(buildRawKey('acme', at, batch, f.bytes)).toMatch(/-x2-[0-9a-f]{8}\.json$/);
  });
});
