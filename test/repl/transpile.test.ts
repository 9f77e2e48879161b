import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { EntrySyntaxError, IncompleteEntry, prepareEntry } from '../../src/repl/transpile.js';

// The entry pipeline without a database: TypeScript in, a script whose value is the entry's.

function console() {
  const context = vm.createContext({});
  return async (source: string): Promise<unknown> => {
    const entry = prepareEntry(source);
    return (await new vm.Script(entry.script, { filename: 'entry' }).runInContext(context)) as unknown;
  };
}

describe('prepareEntry', () => {
  it('keeps declarations of every kind from one entry to the next, and lets them be declared again', async () => {
    const run = console();
    await run('const n: number = 40 + 2');
    expect(await run('n')).toBe(42);
    await run('let { a, b: [c] } = { a: 1, b: [2] }; function twice(x: number) { return x * 2 }');
    expect(await run('twice(a + c)')).toBe(6);
    await run('class Box { constructor(readonly v: number) {} }\nenum Color { Red, Green }');
    expect(await run('new Box(Color.Green).v')).toBe(1);
    await run('const n = "again"');
    expect(await run('n')).toBe('again');
  });

  it('awaits at the top level and gives the value of the last expression', async () => {
    const run = console();
    expect(await run('const p = await Promise.resolve(5)\np * 2')).toBe(10);
    expect(await run('Promise.resolve("adopted")')).toBe('adopted');
  });

  it('reads a lone object literal as an object, not a block', async () => {
    expect(await console()('{ a: 1, b: 2 }')).toEqual({ a: 1, b: 2 });
  });

  it('asks for more lines while a bracket or a template literal is open, and only then', () => {
    expect(() => prepareEntry('const o = {')).toThrow(IncompleteEntry);
    expect(() => prepareEntry('user(')).toThrow(IncompleteEntry);
    expect(() => prepareEntry('const t = `first line')).toThrow(IncompleteEntry);
    expect(() => prepareEntry("const s = 'no end")).toThrow(EntrySyntaxError);
    expect(() => prepareEntry('foo bar')).toThrow(EntrySyntaxError);
  });

  it('names the place of a syntax error in the entry, and refuses import with a reason', () => {
    const error = (() => {
      try {
        prepareEntry('const a = 1\nconst b = = 2');
      } catch (e) {
        return e as EntrySyntaxError;
      }
    })();
    expect(error?.location).toEqual({ line: 2, column: 11 });
    expect(() => prepareEntry("import fs from 'node:fs'\nfs.readFileSync")).toThrow(/import and export are not available/);
  });

  it('maps a runtime error back to the line of the entry it came from', async () => {
    const context = vm.createContext({});
    const entry = prepareEntry('const o: any = {\n  a: 1,\n}\nconst x = o.b.c');
    const error = await Promise.resolve(new vm.Script(entry.script, { filename: 'entry' }).runInContext(context)).catch((e: Error) => e);
    const frame = /entry:(\d+):(\d+)/.exec((error as Error).stack ?? '')!;
    expect(entry.locate(Number(frame[1]) - 1, Number(frame[2]) - 1)?.line).toBe(4);
  });
});
