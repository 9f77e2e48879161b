import { render } from 'ink-testing-library';
import { loadConfig } from '../../src/app/config.js';
import { Lifecycle } from '../../src/app/lifecycle.js';
import type { Services } from '../../src/app/services.js';
import { App } from '../../src/screens/App.js';
import type { Route } from '../../src/screens/routes.js';
import type { TestWorld } from './world.js';

// The console drawn in memory (ink-testing-library) over a real database: a test world's PGlite
// (or PostgreSQL), Redis and simulated edX. Keys go in as a terminal sends them; a test reads
// what a person would see with lastFrame().

/** What the console needs of a test world: a database, Redis and edX settings (the demo world has no simulator). */
export type ConsoleWorld = Pick<TestWorld, 'db' | 'redis' | 'settings'>;

export const KEY = {
  enter: '\r',
  esc: '\u001b',
  up: '\u001b[A',
  down: '\u001b[B',
  ctrlC: '\u0003',
} as const;

export interface ConsoleHarness {
  lastFrame(): string;
  /** Sends keys (characters or KEY values), one write each, with a pause for Ink to handle them. */
  press(...keys: string[]): Promise<void>;
  /** Sends each chunk as its own read, all before Ink has drawn anything (a script, a busy loop). */
  burst(...chunks: string[]): Promise<void>;
  /** Types text into whatever has the keyboard, character by character. */
  type(text: string): Promise<void>;
  /** Waits until the screen shows `what` (and returns the frame), or fails saying what it shows. */
  waitFor(what: string | RegExp, timeoutMs?: number): Promise<string>;
  lifecycle: Lifecycle;
  exited(): boolean;
  unmount(): void;
}

export function servicesOf(world: ConsoleWorld, operator = 'test-operator'): Services {
  return {
    config: loadConfig({ GRADEOPS_OPERATOR: operator, GRADEOPS_DATA_DIR: '/nonexistent' }),
    db: world.db,
    redis: world.redis,
    edx: world.settings,
    operator,
    embedded: true,
    close: async () => {},
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function renderConsole(
  world: ConsoleWorld,
  options: { readOnly?: boolean; initialRoute?: Route; columns?: number; rows?: number; operator?: string } = {},
): ConsoleHarness {
  const lifecycle = new Lifecycle();
  let exited = false;
  const services = servicesOf(world, options.operator);
  const instance = render(
    <App
      connect={async () => services}
      target="embedded demo"
      operator={services.operator}
      readOnly={options.readOnly ?? false}
      lifecycle={lifecycle}
      initialRoute={options.initialRoute}
      concurrency={4}
      onExit={() => {
        exited = true;
      }}
    />,
  );
  const stdout = instance.stdout as unknown as NodeJS.EventEmitter & { columns: number; rows: number };
  Object.defineProperty(stdout, 'columns', { get: () => options.columns ?? 100, configurable: true });
  Object.defineProperty(stdout, 'rows', { get: () => options.rows ?? 30, configurable: true });
  stdout.emit('resize');
  const harness: ConsoleHarness = {
    lastFrame: () => instance.lastFrame() ?? '',
    async press(...keys) {
      for (const key of keys) {
        instance.stdin.write(key);
        await pause(40);
      }
    },
    async burst(...chunks) {
      for (const chunk of chunks) instance.stdin.write(chunk);
      await pause(40);
    },
    async type(text) {
      for (const ch of text) {
        instance.stdin.write(ch);
        await pause(15);
      }
      await pause(40);
    },
    async waitFor(what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = harness.lastFrame();
        if (typeof what === 'string' ? frame.includes(what) : what.test(frame)) {
          // A frame is drawn before React runs the new screen's effects (its key listeners): a
          // person cannot type that fast, a test can.
          await pause(60);
          return harness.lastFrame();
        }
        if (Date.now() > deadline) throw new Error(`the screen never showed ${String(what)}; it shows:\n${frame}`);
        await pause(25);
      }
    },
    lifecycle,
    exited: () => exited,
    unmount: () => instance.unmount(),
  };
  return harness;
}
