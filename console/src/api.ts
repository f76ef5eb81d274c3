/** An answer of the service other than 2xx: its code and message, as the API documents them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

export type Caller = { kind: 'admin' } | { kind: 'tenant'; tenantId: string };

/** Calls the service's own API with the signed-in token; every check is the API's, none is the page's. */
export class Api {
  constructor(readonly token: string) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', path, body ?? {});
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }

  delete(path: string): Promise<void> {
    return this.call<void>('DELETE', path);
  }

  /** Who the token is: `/v1/me`, or (without a database) an operator if `/admin/overview` lets it in. */
  async whoAmI(): Promise<Caller> {
    try {
      return await this.get<Caller>('/v1/me');
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
      await this.get('/admin/overview');
      return { kind: 'admin' };
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; correlationId?: string } } | undefined)?.error;
      throw new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? res.statusText, error?.correlationId);
    }
    return parsed as T;
  }
}

/** A phone number or user id with all but its last four characters hidden. */
export function mask(value: string | null | undefined): string {
  if (!value) return '—';
  return value.length <= 4 ? '••••' : `${'•'.repeat(Math.min(8, value.length - 4))}${value.slice(-4)}`;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}
