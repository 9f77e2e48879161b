import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text, useApp, useInput } from 'ink';
import { ConfirmInput, Spinner } from '@inkjs/ui';
import { Lifecycle } from '../app/lifecycle.js';
import type { Services } from '../app/services.js';
import type { DomainContext } from '../domain/context.js';
import { BodySizeContext } from './body-size.js';
import { ErrorLine } from './components/ErrorLine.js';
import { Header } from './components/Header.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { footerLines, KeyFooter } from './components/KeyFooter.js';
import { ScreenBoundary } from './components/ScreenBoundary.js';
import {
  NavigationContext,
  ScreenFocusContext,
  ServicesContext,
  type ConsoleServices,
  type Navigation,
  type Tone,
} from './console-context.js';
import { FreezeJobs } from './freeze-jobs.js';
import { footerKeys, GLOBAL_FOOTER, helpLines, keypresses, resolveKey, type ActionId } from './keymap.js';
import { crumbsOf, routeTitle, type Route } from './routes.js';
import { Screen } from './Screen.js';
import { marks, theme, toneColor } from './theme.js';
import { useTerminalSize } from './use-terminal-size.js';

// The console's shell: the first frame (header and "connecting…") is drawn before the database
// is open; then the screen stack, a status line for notices, and the footer with the keys of the
// screen on top. `?`, `u` and `q` work on every screen; Ctrl-C too, even while typing.

export interface AppProps {
  /** Opens the services; called once, after the first frame. */
  connect: (onProgress: (message: string) => void) => Promise<Services>;
  /** "embedded demo" or the database host/name, known before connecting. */
  target: string;
  operator: string;
  readOnly: boolean;
  lifecycle?: Lifecycle;
  /** The first screen (tests open a deeper one directly). */
  initialRoute?: Route;
  /** Learners frozen at once by jobs started here. */
  concurrency?: number;
  /** Called when the console is about to exit: 'quit' after q, 'interrupt' after Ctrl-C. */
  onExit?: (reason: 'quit' | 'interrupt') => void;
}

type Boot =
  { phase: 'connecting'; messages: string[] } | { phase: 'ready'; console: ConsoleServices } | { phase: 'failed'; error: unknown };

type Overlay = null | 'help' | 'quit' | 'stopping';

// header (2), status line, and one spare line so the frame stays shorter than the terminal (Ink
// clears the whole screen on every frame that fills it); the footer takes one or two more.
const CHROME_ROWS = 4;

export function App({
  connect,
  target,
  operator,
  readOnly,
  lifecycle: givenLifecycle,
  initialRoute,
  concurrency = 8,
  onExit,
}: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const size = useTerminalSize();
  const lifecycle = useMemo(() => givenLifecycle ?? new Lifecycle(), [givenLifecycle]);
  const [boot, setBoot] = useState<Boot>({ phase: 'connecting', messages: [] });
  const [attempt, setAttempt] = useState(0);
  const [stack, setStack] = useState<Route[]>([initialRoute ?? { name: 'home' }]);
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [notice, setNotice] = useState<{ text: string; tone: Tone; at: number } | null>(null);
  const [keys, setKeysState] = useState<{ ids: readonly ActionId[]; labels: Partial<Record<ActionId, string>> }>({ ids: [], labels: {} });
  const [textEntry, setTextEntryState] = useState(false);
  // The same, for key handlers running before React has drawn the change.
  const textEntryNow = useRef(false);
  const keysNow = useRef(keys);
  keysNow.current = keys;
  const interrupted = useRef(0);

  useEffect(() => {
    let cancelled = false;
    setBoot({ phase: 'connecting', messages: [] });
    connect((message) => {
      if (!cancelled)
        setBoot((b) => (b.phase === 'connecting' ? { phase: 'connecting', messages: [...b.messages, message].slice(-3) } : b));
    }).then(
      (services) => {
        if (cancelled) {
          services.close().catch(() => {});
          return;
        }
        lifecycle.attach(services);
        const ctx: DomainContext = { db: services.db, redis: services.redis, edx: services.edx, operator: services.operator };
        const jobs = new FreezeJobs(ctx, lifecycle, { concurrency });
        setBoot({ phase: 'ready', console: { services, ctx, readOnly, jobs, lifecycle } });
      },
      (error: unknown) => {
        if (!cancelled) setBoot({ phase: 'failed', error });
      },
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- connect once per attempt
  }, [attempt]);

  // A notice stays ten seconds, or until the next one.
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice((n) => (n === notice ? null : n)), 10_000);
    return () => clearTimeout(timer);
  }, [notice]);

  const nav = useMemo<Navigation>(
    () => ({
      push: (route) => setStack((s) => [...s, route]),
      back: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
      replace: (route) => setStack((s) => [...s.slice(0, -1), route]),
      notify: (text, tone = 'info') => setNotice({ text, tone, at: Date.now() }),
      setKeys: (ids, labels) => setKeysState({ ids, labels }),
      setTextEntry: (active) => {
        textEntryNow.current = active;
        setTextEntryState(active);
      },
    }),
    [],
  );

  const leave = useCallback(
    (reason: 'quit' | 'interrupt') => {
      onExit?.(reason);
      exit();
    },
    [exit, onExit],
  );

  const stopJobsThenLeave = useCallback(
    (reason: 'quit' | 'interrupt') => {
      setOverlay('stopping');
      lifecycle.stopJobs().then(
        () => leave(reason),
        () => leave(reason),
      );
    },
    [leave, lifecycle],
  );

  const quit = useCallback(() => {
    if (lifecycle.running().length > 0) setOverlay('quit');
    else leave('quit');
  }, [leave, lifecycle]);

  const connected = boot.phase === 'ready';
  // Ink re-subscribes key handlers after each render; a key read before that must still see the
  // current state, so the handlers read it through a ref.
  const bootRef = useRef(boot);
  bootRef.current = boot;

  // Ctrl-C: stop what runs here (resumable) and leave; a second Ctrl-C leaves at once.
  useInput(
    (input, key) => {
      if (!(key.ctrl && input === 'c')) return;
      interrupted.current += 1;
      if (interrupted.current > 1 || lifecycle.running().length === 0) leave('interrupt');
      else stopJobsThenLeave('interrupt');
    },
    { isActive: true },
  );

  // The global keys: on every screen, unless a text field has the keyboard or an overlay is open.
  const globals = new Set<ActionId>(['help', 'quit', 'find-learner', 'refresh']);
  useInput(
    (input, key) => {
      if (textEntryNow.current) return;
      const presses = keypresses(input, key);
      for (let i = 0; i < presses.length; i++) {
        // What follows the key that opens the screen's filter is typed into it, not global.
        if (keysNow.current.ids.includes('filter') && resolveKey(presses[i].input, presses[i].key) === 'filter') return;
        const action = resolveKey(presses[i].input, presses[i].key, globals);
        if (action === 'quit') return quit();
        const ready = bootRef.current.phase === 'ready';
        if (action === 'help' && ready) return setOverlay('help');
        if (action === 'find-learner' && ready) {
          // What was typed right after u, in the same burst, is the start of the search.
          const text = presses
            .slice(i + 1)
            .map((p) => p.input)
            .join('');
          setStack((s) => (s[s.length - 1].name === 'find-learner' ? s : [...s, { name: 'find-learner', text }]));
          return;
        }
        if (action === 'refresh' && bootRef.current.phase === 'failed') setAttempt((n) => n + 1);
      }
    },
    { isActive: overlay === null && !textEntry },
  );

  useInput(
    (input, key) => {
      if (key.escape || input === '?' || input === 'q') setOverlay(null);
    },
    { isActive: overlay === 'help' },
  );

  useInput(
    (_input, key) => {
      if (key.escape) setOverlay(null);
    },
    { isActive: overlay === 'quit' },
  );

  const width = Math.max(20, size.columns);
  const top = stack[stack.length - 1];
  const crumbs = crumbsOf(stack);
  const footer = connected
    ? footerKeys(keys.ids, readOnly, keys.labels, textEntry)
    : boot.phase === 'failed'
      ? [{ keys: 'R', label: 'try again' }]
      : [];
  // While a text field has the keyboard, u, ? and q are typed: only Ctrl-C leaves.
  const pinned = !connected ? [{ keys: 'q', label: 'quit' }] : textEntry ? [{ keys: 'Ctrl-C', label: 'quit' }] : GLOBAL_FOOTER;
  const bodyHeight = Math.max(3, size.rows - CHROME_ROWS - footerLines(footer, pinned, width).length);

  let body: React.ReactNode;
  if (boot.phase === 'connecting') {
    body = (
      <Box flexDirection="column">
        <Spinner label={`connecting to the ${target}…`} />
        {boot.messages.map((m, i) => (
          <Text key={i} color={theme.dim} wrap="truncate-end">
            {m}
          </Text>
        ))}
      </Box>
    );
  } else if (boot.phase === 'failed') {
    body = (
      <Box flexDirection="column">
        <ErrorLine error={boot.error} prefix="cannot open the console" />
        <Text color={theme.dim}>R tries again, q quits.</Text>
      </Box>
    );
  } else {
    body = (
      <ServicesContext.Provider value={boot.console}>
        {stack.map((route, i) => {
          const isTop = i === stack.length - 1;
          return (
            <Box key={`${i}-${route.name}`} display={isTop ? 'flex' : 'none'} flexDirection="column" height={bodyHeight} overflow="hidden">
              <ScreenFocusContext.Provider value={isTop && overlay === null}>
                <ScreenBoundary>
                  <Screen route={route} />
                </ScreenBoundary>
              </ScreenFocusContext.Provider>
            </Box>
          );
        })}
      </ServicesContext.Provider>
    );
  }

  const running = lifecycle.running();
  return (
    <NavigationContext.Provider value={nav}>
      <BodySizeContext.Provider value={{ width, height: bodyHeight }}>
        <Box flexDirection="column" width={width}>
          <Header target={target} operator={operator} readOnly={readOnly} crumbs={crumbs} width={width} />
          <Box flexDirection="column" height={bodyHeight} overflow="hidden">
            {overlay === 'help' ? (
              <HelpOverlay lines={helpLines(keys.ids, readOnly, keys.labels)} width={width} title={routeTitle(top)} />
            ) : overlay === 'quit' ? (
              <Box flexDirection="column" borderStyle="round" paddingX={1}>
                <Text bold color={theme.warn} wrap="wrap">
                  {marks.warn} Still running, started in this console: {running.map((j) => j.label).join(', ')}.
                </Text>
                <Text>Stop it and quit? Learners in flight finish; running the freeze again resumes where it stopped.</Text>
                <Box>
                  <Text>Stop and quit? </Text>
                  <ConfirmInput defaultChoice="cancel" onConfirm={() => stopJobsThenLeave('quit')} onCancel={() => setOverlay(null)} />
                </Box>
                <Text color={theme.dim}>y stops the freeze and quits · n or Esc stays</Text>
              </Box>
            ) : overlay === 'stopping' ? (
              <Spinner label="stopping: finishing the learners in flight…" />
            ) : (
              body
            )}
          </Box>
          <Box width={width}>
            {notice ? (
              <Text color={toneColor(notice.tone === 'error' ? 'error' : notice.tone)} wrap="truncate-end">
                {notice.text}
              </Text>
            ) : (
              <Text> </Text>
            )}
          </Box>
          <KeyFooter keys={footer} pinned={pinned} width={width} />
        </Box>
      </BodySizeContext.Provider>
    </NavigationContext.Provider>
  );
}
