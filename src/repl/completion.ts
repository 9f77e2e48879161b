import type { TypeClient } from './type-client.js';

// Tab completion. A chain of names (`r.cour`, `db.cl`) completes from the value itself, as it is
// in the console's context now; anything else (`(await user('alice')).`, a name not yet run) asks
// the language service, which knows the declared types.

export type Completion = [names: string[], word: string];

const WORD = /[\p{L}\p{N}_$]*$/u;
const CHAIN = /(?:^|[^\p{L}\p{N}_$.\])'"`])((?:[\p{L}_$][\p{L}\p{N}_$]*\??\.)+)([\p{L}\p{N}_$]*)$/u;
const KEYWORDS = ['await', 'const', 'let', 'function', 'async', 'typeof', 'new', 'true', 'false', 'null', 'undefined'];

function propertyNames(value: unknown): string[] {
  const names = new Set<string>();
  const start = Object(value) as object;
  let current: object | null = start;
  while (current !== null && current !== Function.prototype) {
    const proto = Object.getPrototypeOf(current) as object | null;
    // The root Object.prototype (of either realm) ends the walk: its members are never what one wants.
    if (proto === null && current !== start) break;
    for (const name of Object.getOwnPropertyNames(current)) names.add(name);
    current = proto;
  }
  return [...names].filter((n) => n !== 'constructor' && /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(n));
}

function walk(context: Record<string, unknown>, chain: string[]): unknown {
  let value: unknown = context[chain[0]];
  for (const name of chain.slice(1)) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

const byWord = (names: Iterable<string>, word: string) =>
  [...new Set(names)].filter((n) => n.startsWith(word) && (word.startsWith('_') || !n.startsWith('_'))).sort();

export function createCompleter(context: Record<string, unknown>, types: TypeClient) {
  return async function complete(text: string): Promise<Completion> {
    const chain = CHAIN.exec(text);
    if (chain) {
      const names = chain[1].split(/\??\./).filter(Boolean);
      const word = chain[2];
      let value: unknown;
      try {
        value = walk(context, names);
      } catch {
        value = undefined;
      }
      if (value !== undefined && value !== null) return [byWord(propertyNames(value), word), word];
      const typed = await types.complete(text);
      return [typed.names, typed.word];
    }
    const word = WORD.exec(text)?.[0] ?? '';
    const before = text.slice(0, text.length - word.length);
    if (/[.\])'"`]\s*$/.test(before) || /\?\.$/.test(before)) {
      const typed = await types.complete(text);
      return [typed.names, typed.word];
    }
    if (word === '') return [[], ''];
    return [byWord([...Object.keys(context), ...KEYWORDS], word), word];
  };
}
