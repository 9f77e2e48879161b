import { useCallback, useEffect, useRef, useState } from 'react';

// One write (or slow read) a screen starts on a key: running, then its result or its error, shown
// in place. A second press while it runs does nothing.

export type ActionState<T> =
  | { phase: 'idle' }
  | { phase: 'running'; label: string }
  | { phase: 'done'; label: string; result: T }
  | { phase: 'failed'; label: string; error: unknown };

export function useAction<T>(): {
  state: ActionState<T>;
  run(label: string, work: () => Promise<T>): void;
  reset(): void;
} {
  const [state, setState] = useState<ActionState<T>>({ phase: 'idle' });
  const running = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback((label: string, work: () => Promise<T>) => {
    if (running.current) return;
    running.current = true;
    setState({ phase: 'running', label });
    work().then(
      (result) => {
        running.current = false;
        if (mounted.current) setState({ phase: 'done', label, result });
      },
      (error: unknown) => {
        running.current = false;
        if (mounted.current) setState({ phase: 'failed', label, error });
      },
    );
  }, []);
  const reset = useCallback(() => {
    if (!running.current) setState({ phase: 'idle' });
  }, []);
  return { state, run, reset };
}
