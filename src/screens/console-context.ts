import { createContext, useContext } from 'react';
import type { Lifecycle } from '../app/lifecycle.js';
import type { Services } from '../app/services.js';
import type { DomainContext } from '../domain/context.js';
import type { FreezeJobs } from './freeze-jobs.js';
import type { ActionId } from './keymap.js';
import type { Route } from './routes.js';

// What every screen may use, split like gemini-cli's contexts: the services (state) and the
// navigation and notices (actions). Screens reach the domain only through `ctx`.

export interface ConsoleServices {
  services: Services;
  ctx: DomainContext;
  readOnly: boolean;
  jobs: FreezeJobs;
  lifecycle: Lifecycle;
}

export const ServicesContext = createContext<ConsoleServices | null>(null);

export function useConsole(): ConsoleServices {
  const value = useContext(ServicesContext);
  if (!value) throw new Error('useConsole outside the console (no services yet)');
  return value;
}

export type Tone = 'info' | 'ok' | 'warn' | 'error';

export interface Navigation {
  push(route: Route): void;
  back(): void;
  /** Replaces the screen on top (a wizard's next step that Esc should not come back to). */
  replace(route: Route): void;
  /** A one-line notice in the status line (read-only refusals, results of quick actions). */
  notify(text: string, tone?: Tone): void;
  /** Screens report which keys they offer while they are on top (footer, help). */
  setKeys(ids: readonly ActionId[], labels: Partial<Record<ActionId, string>>): void;
  /**
   * While a text field has the keyboard, the global keys (?, q, u) are typed instead. Takes effect
   * at once, for keys already read but not yet handled.
   */
  setTextEntry(active: boolean): void;
}

export const NavigationContext = createContext<Navigation | null>(null);

export function useNavigation(): Navigation {
  const value = useContext(NavigationContext);
  if (!value) throw new Error('useNavigation outside the console');
  return value;
}

/** Whether this screen is on top and nothing covers it: only then does it listen to keys. */
export const ScreenFocusContext = createContext<boolean>(false);

export function useScreenFocus(): boolean {
  return useContext(ScreenFocusContext);
}

/** The services when the console is connected, else null (the connecting screen). */
export function useConsoleMaybe(): ConsoleServices | null {
  return useContext(ServicesContext);
}
