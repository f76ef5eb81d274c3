import { checkEndpointUrl, isPrivateAddress, matchesFilter, parseEventFilter } from '../../src/subscriptions';

const strict = { allowInsecure: false, allowPrivate: false };

describe('event filters', () => {
  it.each([
    [['#'], 'message.text', true],
    [['#'], 'notification.history', true],
    [['message.*'], 'message.text', true],
    [['message.*'], 'message.text.echo', false],
    [['message.#'], 'message.text.echo', true],
    [['message.#'], 'message', true],
    [['status.read'], 'status.read', true],
    [['status.read'], 'status.delivered', false],
    [['*.read'], 'status.read', true],
    [['notification.#', 'status.failed'], 'status.failed', true],
    [['message.*.echo'], 'message.text.echo', true],
    [['message.*.echo'], 'message.text.history', false],
    [['#.echo'], 'message.image.echo', true],
  ])('when the filter is %j, then %s matches: %s (as a RabbitMQ topic binding)', (patterns, key, expected) => {
    expect(matchesFilter(patterns, key)).toBe(expected);
  });

  it('when a pattern is not made of routing-key words, then it is refused naming it', () => {
    expect(() => parseEventFilter(['message.TEXT'])).toThrow(/"message.TEXT" is not a routing-key pattern/);
    expect(() => parseEventFilter(['message..text'])).toThrow(/not a routing-key pattern/);
    expect(() => parseEventFilter(['message.te*'])).toThrow(/not a routing-key pattern/);
    expect(() => parseEventFilter([])).toThrow(/at least one pattern/);
    expect(() => parseEventFilter(Array.from({ length: 33 }, (_, i) => `message.t${i}`))).toThrow(/at most 32/);
  });

  it('when patterns repeat, then each is kept once', () => {
    expect(parseEventFilter(['message.*', 'message.*', 'status.#'])).toEqual(['message.*', 'status.#']);
  });
});

describe('endpoint URLs', () => {
  it.each([
    '10.1.2.3',
    '172.16.0.1',
    '192.168.0.10',
    '127.0.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:10.0.0.1',
    '::ffff:a00:1',
  ])('when an address is %s, then it is private', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '157.240.1.1', '2a03:2880::1', '172.32.0.1'])('when an address is %s, then it is public', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('when a URL is https to a public host, then it is kept as it will be called', () => {
    expect(checkEndpointUrl('https://Hooks.Example.com:8443/in?x=1', strict)).toBe('https://hooks.example.com:8443/in?x=1');
  });

  it('when plain http or a loopback address is used, then only ALLOW_INSECURE_ENDPOINTS lets it through, and only to loopback', () => {
    expect(() => checkEndpointUrl('http://127.0.0.1:8080/', strict)).toThrow(/must be https/);
    expect(() => checkEndpointUrl('https://localhost/', strict)).toThrow(/private, loopback or link-local/);
    expect(checkEndpointUrl('http://127.0.0.1:8080/', { allowInsecure: true, allowPrivate: false })).toBe('http://127.0.0.1:8080/');
    expect(checkEndpointUrl('http://[::1]:8080/', { allowInsecure: true, allowPrivate: false })).toBe('http://[::1]:8080/');
    expect(() => checkEndpointUrl('http://10.0.0.1/', { allowInsecure: true, allowPrivate: true })).toThrow(/must be https/);
  });

  it('when ALLOW_PRIVATE_ENDPOINTS is set, then an https endpoint on a private address is allowed', () => {
    expect(checkEndpointUrl('https://10.0.0.1/hook', { allowInsecure: false, allowPrivate: true })).toBe('https://10.0.0.1/hook');
  });

  it('when a URL is too long, carries credentials or a fragment, then it is refused saying why', () => {
    expect(() => checkEndpointUrl(`https://hooks.example.com/${'a'.repeat(2048)}`, strict)).toThrow(/at most 2048/);
    expect(() => checkEndpointUrl('https://u:p@hooks.example.com/', strict)).toThrow(/credentials/);
    expect(() => checkEndpointUrl('https://hooks.example.com/#x', strict)).toThrow(/fragment/);
  });
});
