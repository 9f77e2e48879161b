import { useCallback, useEffect, useRef, useState } from 'react';

// One loader behind each screen (k9s' table model): loads never overlap, a failed load keeps the
// last good data beside the error, and a screen that is not on top stops polling.

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When the data shown was read (the watcher's clock). */
  loadedAt: number | null;
  /** Load again now (after the load in flight, if any). */
  reload(): void;
}

export interface PollOptions {
  /** Load again this long after the previous load ended; none: load once (and on reload). */
  intervalMs?: number;
  /** Poll only while true (the screen is on top); a reload still works. */
  active?: boolean;
}

export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], options: PollOptions = {}): Polled<T> {
  const { intervalMs, active = true } = options;
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; loadedAt: number | null }>({
    data: undefined,
    error: null,
    loading: true,
    loadedAt: null,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const inFlight = useRef(false);
  const again = useRef(false);
  const mounted = useRef(true);
  const timer = useRef<NodeJS.Timeout | null>(null);
  const generation = useRef(0);
  const activeRef = useRef(active);
  activeRef.current = active;

  const run = useCallback(() => {
    if (timer.current) {
      clearTimeout(timer.current);
      timer.current = null;
    }
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    const gen = generation.current;
    setState((s) => (s.loading ? s : { ...s, loading: true }));
    loadRef.current().then(
      (data) => finish(gen, { data, error: null }),
      (error: unknown) => finish(gen, { error }),
    );
    function finish(gen: number, result: { data?: T; error: unknown }) {
      inFlight.current = false;
      if (!mounted.current) return;
      if (gen === generation.current) {
        setState((s) => ({
          data: 'data' in result ? result.data : s.data,
          error: result.error,
          loading: false,
          loadedAt: Date.now(),
        }));
      }
      if (again.current || gen !== generation.current) {
        again.current = false;
        run();
      } else if (intervalMs !== undefined && activeRef.current) {
        timer.current = setTimeout(run, intervalMs);
      }
    }
  }, [intervalMs]);

  useEffect(() => {
    mounted.current = true;
    generation.current += 1;
    setState((s) => ({ ...s, data: undefined, error: null, loading: true }));
    run();
    return () => {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller's deps say when the thing loaded changes
  }, deps);

  // Coming back on top resumes polling at once.
  useEffect(() => {
    if (active && intervalMs !== undefined && !inFlight.current && !timer.current) run();
  }, [active, intervalMs, run]);

  useEffect(
    () => () => {
      mounted.current = false;
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  return { ...state, reload: run };
}
