import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';

/** What `load` gives, with the error it threw, and a way to load again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): { data?: T; error?: unknown; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown }>({});
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (error: unknown) => live && setState((s) => ({ ...s, error })),
    );
    const timer = everyMs ? setInterval(reload, everyMs) : undefined;
    return () => {
      live = false;
      if (timer) clearInterval(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload };
}

export function describe(error: unknown): string {
  if (error instanceof ApiError)
    return `${error.status} ${error.code}: ${error.message}${error.correlationId ? ` (correlation id ${error.correlationId})` : ''}`;
  return String(error);
}

export function Failure({ error }: { error: unknown }) {
  if (error === undefined) return null;
  return (
    <p class="notice error" role="alert">
      {describe(error)}
    </p>
  );
}

export function Info({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice info" role="status">
      {children}
    </p>
  );
}

/** Runs an action, showing its error or its result line, and calling `done` after it. */
export function useAction(): {
  run: (action: () => Promise<string | void>, done?: () => void) => Promise<void>;
  busy: boolean;
  error?: unknown;
  message?: string;
} {
  const [state, setState] = useState<{ busy: boolean; error?: unknown; message?: string }>({ busy: false });
  const run = async (action: () => Promise<string | void>, done?: () => void): Promise<void> => {
    setState({ busy: true });
    try {
      const message = await action();
      setState({ busy: false, message: message ?? undefined });
      done?.();
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return { run, ...state };
}

export function Outcome({ action }: { action: { error?: unknown; message?: string } }) {
  return (
    <>
      <Failure error={action.error} />
      {action.message ? <Info>{action.message}</Info> : null}
    </>
  );
}

export function Tabs<T extends string>({
  label,
  tabs,
  current,
  onSelect,
}: {
  label: string;
  tabs: ReadonlyArray<[T, string]>;
  current: T;
  onSelect: (tab: T) => void;
}) {
  return (
    <nav aria-label={label}>
      {tabs.map(([id, name]) => (
        <button type="button" key={id} aria-current={id === current ? 'page' : undefined} onClick={() => onSelect(id)}>
          {name}
        </button>
      ))}
    </nav>
  );
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';
}
