import { Worker } from 'node:worker_threads';
import type { EntryDiagnostic, HelperDoc } from './types.js';

// The console's side of the language service thread (type-worker.ts): every question is a
// message, every answer a promise. When typescript or the context's source is missing, types
// are unavailable and the console runs entries unchecked, saying so once.

export type TypeRequest = { id: number; method: 'check' | 'accept' | 'typeOf' | 'complete'; arg: string };

export type TypeReply =
  | { kind: 'helpers'; helpers: HelperDoc[] }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'result'; id: number; result?: unknown; error?: string };

export interface TypeClient {
  /** The helpers as context.ts declares them; null when types are unavailable. */
  helpers(): Promise<HelperDoc[] | null>;
  /** Type errors of an entry; null when types are unavailable. */
  check(source: string): Promise<EntryDiagnostic[] | null>;
  accept(source: string): void;
  typeOf(expression: string): Promise<string | null>;
  complete(text: string): Promise<{ word: string; names: string[] }>;
  /** Why types are unavailable, once known. */
  unavailable(): string | null;
  /** Starts the thread now (else the first question starts it). */
  start(): void;
  close(): Promise<void>;
}

function spawnWorker(): Worker {
  const self = import.meta.url;
  const fromSource = self.endsWith('.ts');
  const entry = new URL(`./type-worker.${fromSource ? 'ts' : 'js'}`, self).href;
  // Run from the sources, the thread needs tsx's loader as the main thread has it (bin/gradeops.js).
  const register = fromSource
    ? `const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); register();`
    : '';
  const worker = new Worker(`(async () => { ${register} await import(${JSON.stringify(entry)}); })()`, { eval: true });
  worker.unref();
  return worker;
}

/** The client; the thread starts on `start()` or the first question. */
export function createTypeClient(): TypeClient {
  let worker: Worker | null = null;

  let reason: string | null = null;
  let resolveHelpers!: (helpers: HelperDoc[] | null) => void;
  const helpers = new Promise<HelperDoc[] | null>((resolve) => (resolveHelpers = resolve));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;

  const giveUp = (why: string) => {
    reason ??= why;
    resolveHelpers(null);
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };
  const started = (): Worker => {
    if (worker) return worker;
    worker = spawnWorker();
    worker.on('message', onReply);
    worker.on('error', (error) => giveUp(error.message));
    worker.on('exit', () => giveUp('the type checker stopped'));
    return worker;
  };
  const onReply = (reply: TypeReply) => {
    if (reply.kind === 'helpers') resolveHelpers(reply.helpers);
    else if (reply.kind === 'unavailable') giveUp(reply.reason);
    else {
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.error !== undefined) p?.reject(new Error(reply.error));
      else p?.resolve(reply.result);
    }
  };

  const ask = <T>(method: TypeRequest['method'], arg: string): Promise<T> => {
    if (reason) return Promise.reject(new Error(reason));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve, reject });
      started().postMessage({ id, method, arg } satisfies TypeRequest);
    });
  };

  return {
    helpers() {
      started();
      return helpers;
    },
    async check(source) {
      started();
      if ((await helpers) === null) return null;
      return ask<EntryDiagnostic[]>('check', source).catch(() => null);
    },
    accept(source) {
      if (!reason) ask('accept', source).catch(() => {});
    },
    async typeOf(expression) {
      return ask<string | null>('typeOf', expression);
    },
    async complete(text) {
      return ask<{ word: string; names: string[] }>('complete', text).catch(() => ({ word: '', names: [] }));
    },
    unavailable: () => reason,
    start() {
      started();
    },
    async close() {
      await worker?.terminate();
    },
  };
}
