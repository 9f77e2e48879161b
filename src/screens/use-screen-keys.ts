import { useEffect, useMemo, useRef } from 'react';
import { useInput, type Key } from 'ink';
import { useNavigation, useScreenFocus, useConsoleMaybe } from './console-context.js';
import { binding, isDangerous, keypresses, resolveKey, type ActionId } from './keymap.js';

// The one way a screen listens to keys: the keypress is resolved through the keymap, a dangerous
// action is refused in read-only mode (and says so), and the screen's offered actions go to the
// footer and the help overlay while it is on top.

/** What a screen does on each action it offers. */
export type KeyHandlers = Partial<Record<ActionId, (() => void) | false | undefined>>;

export interface Keypress {
  input: string;
  key: Key;
}

export interface ScreenKeyOptions {
  /** Footer labels that say what an action does here ("freeze this learner"). */
  labels?: Partial<Record<ActionId, string>>;
  /** A text field has the keyboard: only Esc, Enter and the arrows are actions, the rest is typed. */
  textEntry?: boolean;
  /** Listen only while true (besides being on top), e.g. while no confirmation is open. */
  isActive?: boolean;
  /**
   * Sees every keypress first, one at a time, and returns true when it took it: a text field the
   * screen draws itself (the filter). It must read its state through refs: a key typed right after
   * the one that opened the field arrives before React has drawn it.
   */
  capture?: (press: Keypress) => boolean;
}

const TEXT_ENTRY_ACTIONS = new Set<ActionId>(['back', 'open', 'up', 'down', 'page-up', 'page-down']);

export function useScreenKeys(handlers: KeyHandlers, options: ScreenKeyOptions = {}): void {
  const focused = useScreenFocus();
  const nav = useNavigation();
  const readOnly = useConsoleMaybe()?.readOnly ?? false;
  const active = focused && (options.isActive ?? true);
  // Ink re-subscribes after each render; a key read before that must reach the current handlers.
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const textEntryRef = useRef(options.textEntry);
  textEntryRef.current = options.textEntry;
  const captureRef = useRef(options.capture);
  captureRef.current = options.capture;
  // Which actions exist matters to the footer, not their closures (new on every render).
  const offeredKey = (Object.keys(handlers) as ActionId[]).filter((id) => typeof handlers[id] === 'function').join(',');
  const offered = useMemo(() => (offeredKey ? (offeredKey.split(',') as ActionId[]) : []), [offeredKey]);
  const labelKey = JSON.stringify(options.labels ?? {});

  useEffect(() => {
    if (active) nav.setKeys(offered, options.labels ?? {});
    // eslint-disable-next-line react-hooks/exhaustive-deps -- labels compared by value
  }, [active, offered, labelKey, nav]);

  useEffect(() => {
    if (!active) return;
    nav.setTextEntry(Boolean(options.textEntry));
    return () => nav.setTextEntry(false);
  }, [active, options.textEntry, nav]);

  useInput(
    (input, key) => {
      const textEntry = textEntryRef.current;
      const capture = captureRef.current;
      const presses = textEntry && !capture ? [{ input, key }] : keypresses(input, key);
      for (let i = 0; i < presses.length; i++) {
        if (capture?.(presses[i])) continue;
        const action = resolveKey(presses[i].input, presses[i].key, textEntry ? TEXT_ENTRY_ACTIONS : undefined);
        if (!action) continue;
        // u, ? and q move the keyboard elsewhere (the App handles them): what follows is not this screen's.
        if (binding(action).scope === 'global') return;
        const handler = handlersRef.current[action];
        if (isDangerous(action) && readOnly) {
          nav.notify(`read-only: ${binding(action).label} is turned off (started with --read-only or GRADEOPS_READ_ONLY=1)`, 'warn');
          return;
        }
        if (typeof handler !== 'function') continue;
        handler();
      }
    },
    { isActive: active },
  );
}
