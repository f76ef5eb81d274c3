import { ConfigError } from '../../src/errors';
import { parseTenants } from '../../src/tenants';

const valid = { id: 'acme', name: 'Acme', businessAccountId: '1', phoneNumberIds: ['2'], appSecret: 's', verifyToken: 'v', accessToken: 't' };

describe('tenants file', () => {
  it('when records are valid, then ids given as numbers become strings', () => {
    const [tenant] = parseTenants([{ ...valid, businessAccountId: 102290129340398, phoneNumberIds: [106540352242922] }], 'test');
    expect(tenant).toMatchObject({ businessAccountId: '102290129340398', phoneNumberIds: ['106540352242922'] });
  });

  it('when records are invalid or collide, then every problem is reported naming the record and field', () => {
    let error: unknown;
    try {
      parseTenants(
        [
          valid,
          { ...valid, id: 'nosecret', businessAccountId: '7', phoneNumberIds: [], appSecret: '' },
          { ...valid, id: 'bad id!' },
          { ...valid, id: 'other', businessAccountId: '5', phoneNumberIds: ['2'] },
          { ...valid, id: 'failed', businessAccountId: '9', phoneNumberIds: [] },
        ],
        'TENANTS_FILE (t.json)',
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('tenant [1] appSecret');
    expect(problems).toContain('tenant [2] id');
    expect(problems).toContain('tenant [4] id is reserved');
    expect(problems).toMatch(/phoneNumberId 2 belongs to both tenant acme and tenant other/);
  });

  it('when the file is not an array, then it says so', () => {
    expect(() => parseTenants({}, 'X')).toThrow(/expected a JSON array/);
  });
});
