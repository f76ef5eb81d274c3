import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../errors';

const MAX_URL_LENGTH = 2048;

/** Addresses a tenant's endpoint may not resolve to unless ALLOW_PRIVATE_ENDPOINTS: our own network and the host itself. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (::a.b.c.d)
  ['::ffff:0:0:0', 96], // SIIT
  ['64:ff9b::', 96], // NAT64: reaches the IPv4 address inside
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2002::', 16], // 6to4: an IPv4 address inside
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it is. */
function unmapped(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1]!, family: 'ipv4' };
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

export function isPrivateAddress(address: string): boolean {
  const { address: a, family } = unmapped(address);
  return PRIVATE.check(a, family);
}

export function isLoopbackAddress(address: string): boolean {
  const { address: a, family } = unmapped(address);
  return LOOPBACK.check(a, family);
}

export interface EndpointRules {
  /** ALLOW_INSECURE_ENDPOINTS: plain http to a loopback address (local use). */
  allowInsecure: boolean;
  /** ALLOW_PRIVATE_ENDPOINTS: private, loopback and link-local addresses. */
  allowPrivate: boolean;
}

/**
 * Checks a subscription's URL when it is registered: https (http only to loopback with
 * ALLOW_INSECURE_ENDPOINTS), no credentials in it, no fragment, at most 2,048 characters, and not an
 * address of our own network written as an IP (a host name is checked again on every delivery,
 * against what it resolves to then). Returns the URL as it will be called.
 */
export function checkEndpointUrl(raw: string, rules: EndpointRules): string {
  const refuse = (why: string): never => {
    throw new ValidationError('invalid_url', `url: ${why}`);
  };
  if (raw.length > MAX_URL_LENGTH) refuse(`at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('not a URL');
  }
  if (url.username !== '' || url.password !== '') refuse('credentials in the URL are not allowed (the signature authenticates each delivery)');
  if (url.hash !== '') refuse('a fragment is not sent to a server: remove it');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const ip = isIP(host) !== 0;
  const loopback = host === 'localhost' || (ip && isLoopbackAddress(host));
  if (url.protocol === 'http:') {
    if (!(rules.allowInsecure && loopback)) refuse('must be https (plain http is allowed only to a loopback address, with ALLOW_INSECURE_ENDPOINTS)');
  } else if (url.protocol !== 'https:') {
    refuse('must be https');
  }
  const privateHost = host === 'localhost' || (ip && isPrivateAddress(host));
  if (privateHost && !rules.allowPrivate && !(rules.allowInsecure && loopback)) {
    refuse('a private, loopback or link-local address is not allowed (ALLOW_PRIVATE_ENDPOINTS)');
  }
  return url.href;
}
