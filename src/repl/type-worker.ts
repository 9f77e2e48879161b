import { parentPort } from 'node:worker_threads';
import { createTypeService, findContextSource, loadTypeScript, type TypeService } from './types.js';
import type { TypeReply, TypeRequest } from './type-client.js';

// The language service runs on a thread of its own: loading typescript and the first program
// take seconds, and the prompt and the database start-up must not wait for them.

const port = parentPort!;

const ready: Promise<TypeService> = (async () => {
  const contextFile = findContextSource();
  if (!contextFile) throw new Error('src/repl/context.ts is not next to this installation');
  const service = createTypeService(await loadTypeScript(), contextFile);
  port.postMessage({ kind: 'helpers', helpers: service.helpers() } satisfies TypeReply);
  // The first check builds the program (lib, @types/node, knex, the domain): do it before anyone waits.
  service.check('user');
  return service;
})();

ready.catch((error: unknown) => {
  port.postMessage({ kind: 'unavailable', reason: (error as Error).message } satisfies TypeReply);
});

port.on('message', (request: TypeRequest) => {
  ready.then(
    (service) => {
      try {
        const result =
          request.method === 'check'
            ? service.check(request.arg)
            : request.method === 'accept'
              ? service.accept(request.arg)
              : request.method === 'typeOf'
                ? service.typeOf(request.arg)
                : service.complete(request.arg);
        port.postMessage({ kind: 'result', id: request.id, result } satisfies TypeReply);
      } catch (error) {
        port.postMessage({ kind: 'result', id: request.id, error: (error as Error).message } satisfies TypeReply);
      }
    },
    () => {
      /* reported once above */
    },
  );
});
