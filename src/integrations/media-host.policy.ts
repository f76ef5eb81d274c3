/**
 * Where media may be downloaded from, and so where a tenant's access token may go: https URLs on
 * Meta's media hosts (MEDIA_ALLOWED_HOSTS: `lookaside.fbsbx.com` by default, `*.domain`
 * wildcards), the Graph API's own origin, and whole origins named explicitly (`http://127.0.0.1:8080`,
 * for a local stand-in). Anything else — another scheme, a port not named, credentials in the
 * URL, a host not on the list — is refused before a connection is opened.
 */
export class MediaHostPolicy {
  private readonly hosts = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly origins = new Set<string>();

  constructor(entries: readonly string[], graphBaseUrl: string) {
    for (const entry of entries) {
      if (entry.includes('://')) this.origins.add(new URL(entry).origin);
      else if (entry.startsWith('*.')) this.suffixes.push(entry.slice(1));
      else this.hosts.add(entry);
    }
    this.origins.add(new URL(graphBaseUrl).origin);
  }

  /** Whether `url` may be fetched with the token. */
  allows(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.username !== '' || parsed.password !== '') return false;
    if (this.origins.has(parsed.origin)) return true;
    if (parsed.protocol !== 'https:' || parsed.port !== '') return false;
    const host = parsed.hostname.toLowerCase();
    return this.hosts.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  }
}
