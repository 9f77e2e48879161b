import { SourceMap, type SourceMapPayload } from 'node:module';
import { Parser, type Pattern, type Program, type Statement } from 'acorn';
import { transformSync, type Message } from 'esbuild';

// One console entry, from TypeScript to a script the vm can run: esbuild strips the types, then
// the top-level rewrite Node's REPL does for `await` (lib/internal/repl/await.js,
// processTopLevelAwait) turns the entry into the body of an async function whose value is the
// last expression's, and its top-level declarations into globals of the console's context, so
// `const n = 42` in one entry is `n` in the next and may be declared again later.

/** Where in the entry (1-based line, 1-based column) something happened. */
export interface EntryLocation {
  line: number;
  column: number;
}

/** The entry stops in the middle (an open bracket, a template): the REPL asks for more lines. */
export class IncompleteEntry extends Error {}

/** The entry is not valid TypeScript: the message is esbuild's first error, the location the entry's. */
export class EntrySyntaxError extends Error {
  constructor(
    message: string,
    readonly location: EntryLocation | null,
  ) {
    super(message);
    this.name = 'EntrySyntaxError';
  }
}

export interface PreparedEntry {
  /** The TypeScript as it will be type-checked (an object literal entry is parenthesised). */
  source: string;
  /** A script whose completion value is a promise of the entry's value. */
  script: string;
  /** Maps a position in `script` (0-based line and column, as V8 reports them) back to the entry. */
  locate: (line: number, column: number) => EntryLocation | null;
}

const ESBUILD_OPTIONS = {
  loader: 'ts',
  target: 'esnext',
  sourcemap: 'external',
  sourcefile: 'entry.ts',
  logLevel: 'silent',
} as const;

function isIncomplete(source: string, error: Message): boolean {
  if (/end of file/i.test(error.text)) return true;
  // A template literal may span lines; any other unterminated string is a mistake.
  return /Unterminated string literal/.test(error.text) && (source.match(/`/g)?.length ?? 0) % 2 === 1;
}

// Synchronous on purpose: node:repl decides whether a line continues an entry (Recoverable) before
// it reads the next one, and a pasted block or a piped script delivers its lines all at once.
function transpile(source: string): { code: string; map: string } {
  try {
    return transformSync(source, ESBUILD_OPTIONS);
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (!first) throw error;
    if (isIncomplete(source, first)) throw new IncompleteEntry(first.text);
    const loc = first.location;
    throw new EntrySyntaxError(first.text, loc ? { line: loc.line, column: loc.column + 1 } : null);
  }
}

interface Edit {
  at: number;
  /** Characters of the original removed at `at`. */
  remove: number;
  insert: string;
}

/** The names a declaration pattern binds. */
function boundNames(pattern: Pattern, into: string[]): string[] {
  switch (pattern.type) {
    case 'Identifier':
      into.push(pattern.name);
      break;
    case 'ObjectPattern':
      for (const p of pattern.properties) boundNames(p.type === 'RestElement' ? p.argument : p.value, into);
      break;
    case 'ArrayPattern':
      for (const e of pattern.elements) if (e) boundNames(e, into);
      break;
    case 'RestElement':
      boundNames(pattern.argument, into);
      break;
    case 'AssignmentPattern':
      boundNames(pattern.left, into);
      break;
    default:
      break;
  }
  return into;
}

const PREFIX = '(async () => { ';

/** The rewrite of processTopLevelAwait, on esbuild's output; returns the script and its edits. */
function rewrite(js: string): { script: string; edits: Edit[]; prefix: string } {
  let program: Program;
  try {
    program = Parser.parse(js, { ecmaVersion: 'latest', sourceType: 'script', allowAwaitOutsideFunction: true });
  } catch (error) {
    const message = (error as Error).message.replace(/\s*\(\d+:\d+\)$/, '');
    if (/'import' and 'export' may appear only/.test(message)) {
      throw new EntrySyntaxError('import and export are not available in the console: the helpers are already in scope', null);
    }
    throw new EntrySyntaxError(message, null);
  }
  const edits: Edit[] = [];
  const hoisted: string[] = [];
  const functionNames: string[] = [];
  const insert = (at: number, text: string) => edits.push({ at, remove: 0, insert: text });
  const statements: Statement[] = program.body as Statement[];

  for (const statement of statements) {
    if (statement.type === 'VariableDeclaration') {
      const { kind, declarations } = statement;
      // `const a = 1, b = 2;` → `void ((a = 1), (b = 2));`: an assignment to context globals.
      edits.push({ at: statement.start, remove: kind.length, insert: declarations.length === 1 ? 'void' : 'void (' });
      for (const d of declarations) {
        hoisted.push(...boundNames(d.id, []));
        if (d.init) {
          insert(d.id.start, '(');
          insert(d.init.end, ')');
        } else {
          insert(d.id.start, '(');
          insert(d.id.end, kind === 'var' ? ')' : ' = undefined)');
        }
      }
      if (declarations.length !== 1) insert(declarations[declarations.length - 1].end, ')');
    } else if (statement.type === 'FunctionDeclaration' && statement.id) {
      functionNames.push(statement.id.name);
    } else if (statement.type === 'ClassDeclaration' && statement.id) {
      hoisted.push(statement.id.name);
      insert(statement.start, `${statement.id.name} = `);
      insert(statement.end, ';');
    }
  }
  const last = statements[statements.length - 1] as Statement | undefined;
  if (last && last.type === 'ExpressionStatement') {
    // From the statement's start, not the expression's: `({ a: 1 });` keeps its parentheses inside.
    insert(last.start, 'return (');
    insert(js[last.end - 1] === ';' ? last.end - 1 : last.end, ')');
  }

  // Function declarations are hoisted inside the wrapper; `this` there is the context's global.
  const exported = functionNames.map((name) => `this.${name} = ${name}; `).join('');
  const prefix = `${[...new Set(hoisted)].map((name) => `var ${name}; `).join('')}${PREFIX}${exported}`;
  edits.sort((a, b) => a.at - b.at);
  let script = prefix;
  let cursor = 0;
  for (const edit of edits) {
    script += js.slice(cursor, edit.at) + edit.insert;
    cursor = edit.at + edit.remove;
  }
  script += `${js.slice(cursor)}\n})()`;
  return { script, edits, prefix };
}

/** An offset in the rewritten script, back to the offset in esbuild's output. */
function originalOffset(offset: number, prefix: string, edits: Edit[]): number {
  let shift = prefix.length;
  for (const edit of edits) {
    const editStart = edit.at + shift;
    if (offset < editStart) break;
    if (offset < editStart + edit.insert.length) return edit.at;
    shift += edit.insert.length - edit.remove;
  }
  return Math.max(0, offset - shift);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** Transpiles and rewrites one entry; throws IncompleteEntry or EntrySyntaxError. */
export function prepareEntry(input: string): PreparedEntry {
  let source = input.replace(/\s+$/, '');
  // Node's REPL reads `{ a: 1 }` as an object, not a block: try it as an expression first.
  let transpiled: { code: string; map: string } | null = null;
  if (/^\s*\{/.test(source) && !source.endsWith(';')) {
    try {
      transpiled = transpile(`(${source})`);
      source = `(${source})`;
    } catch {
      transpiled = null;
    }
  }
  transpiled ??= transpile(source);
  const { script, edits, prefix } = rewrite(transpiled.code);
  const map = new SourceMap(JSON.parse(transpiled.map) as SourceMapPayload);
  const scriptLines = lineStarts(script);
  const jsLines = lineStarts(transpiled.code);
  const wrapped = source !== input.replace(/\s+$/, '');
  return {
    source,
    script,
    locate(line, column) {
      const start = scriptLines[line];
      if (start === undefined) return null;
      const offset = originalOffset(start + column, prefix, edits);
      let jsLine = jsLines.length - 1;
      while (jsLine > 0 && jsLines[jsLine] > offset) jsLine--;
      const entry = map.findEntry(jsLine, offset - jsLines[jsLine]) as { originalLine?: number; originalColumn?: number };
      if (entry.originalLine === undefined) return null;
      const column1 = entry.originalColumn! + 1 - (wrapped && entry.originalLine === 0 ? 1 : 0);
      return { line: entry.originalLine + 1, column: Math.max(1, column1) };
    },
  };
}
