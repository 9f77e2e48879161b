import { inspect } from 'node:util';
import Table from 'cli-table3';
import { isReadOnlyRefusal } from '../app/database.js';
import { OpsError } from '../domain/errors.js';
import { maskSecret } from '../domain/secrets.js';
import type { EntryDiagnostic } from './types.js';
import { EntrySyntaxError, type EntryLocation } from './transpile.js';

// How the console shows values and errors: arrays of rows as tables that fit the terminal, other
// values as readable objects, errors as one line with the entry's line and column (never a stack
// into gradeops unless GRADEOPS_DEBUG=1). Tokens and secrets are masked wherever they show up.

export interface PrintOptions {
  colors: boolean;
  /** The terminal's width; undefined when piped (tables keep their natural width). */
  width?: number;
}

const MAX_ROWS = 200;
const MIN_COLUMN = 6;
const SECRET_KEY = /^(access_token|refresh_token|id_token|client_secret|secret|password)$/i;

type Row = Record<string, unknown>;

/** A plain object (a database row, a domain value), from this realm or the console's vm. */
function isPlainObject(value: unknown): value is Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

export function isRows(value: unknown): value is Row[] {
  return Array.isArray(value) && value.length > 0 && value.every(isPlainObject);
}

/** A copy with every token-like field masked (spec: secrets never reach output). */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && typeof v === 'string' ? maskSecret(v) : redactSecrets(v, depth + 1)]),
  );
}

function cellText(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return '';
  // A Date made in the console's vm is no instance of this realm's Date.
  if (Object.prototype.toString.call(value) === '[object Date]') {
    const date = value as Date;
    return Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString();
  }
  if (typeof value === 'string') return value.replace(/\r?\n/g, '⏎');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  const json = typeof value === 'object' ? JSON.stringify(value) : undefined;
  const text = json ?? inspect(value, { depth: 1, breakLength: Infinity });
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/**
 * Column widths that fit `width`: prose and JSON columns give way first (widest first), then
 * the others; none goes below a few characters. Keys, dates and numbers stay whole while they can.
 */
function fitWidths(natural: number[], wrappable: boolean[], width: number | undefined): number[] {
  const widths = [...natural];
  if (!width) return widths;
  const available = width - (widths.length + 1);
  let total = widths.reduce((a, b) => a + b, 0);
  for (const pass of [true, false]) {
    while (total > available) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++)
        if ((!pass || wrappable[i]) && widths[i] > MIN_COLUMN && (widest < 0 || widths[i] > widths[widest])) widest = i;
      if (widest < 0) break;
      widths[widest]--;
      total--;
    }
  }
  return widths;
}

export function renderRows(rows: Row[], width: number | undefined): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const shown = rows.slice(0, MAX_ROWS);
  const text = shown.map((row) => columns.map((c) => cellText(row[c])));
  const natural = columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i].length)) + 2);
  const wrappable = columns.map((c, i) => shown.some((row, r) => isPlainObject(row[c]) || Array.isArray(row[c]) || /\s/.test(text[r][i])));
  const table = new Table({
    head: columns,
    colWidths: fitWidths(natural, wrappable, width),
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of text) table.push(row);
  const count =
    rows.length > MAX_ROWS ? `(${rows.length} rows, the first ${MAX_ROWS} shown)` : `(${rows.length} row${rows.length === 1 ? '' : 's'})`;
  return `${table.toString()}\n${count}`;
}

export function formatValue(value: unknown, options: PrintOptions): string {
  const shown = redactSecrets(value);
  if (isRows(shown)) return renderRows(shown, options.width);
  return inspect(shown, { colors: options.colors, depth: 6, breakLength: options.width ?? 100, maxArrayLength: 100 });
}

const at = (location: EntryLocation | null) => (location ? ` (line ${location.line}, col ${location.column})` : '');

export function formatTypeErrors(diagnostics: EntryDiagnostic[]): string {
  const shown = diagnostics.slice(0, 5).map((d) => `error: type error${at(d)}: ${d.message}`);
  if (diagnostics.length > shown.length) shown.push(`… ${diagnostics.length - shown.length} more type errors`);
  return `${shown.join('\n')}\n(not run; \`.check off\` runs entries without the type check)`;
}

export function formatSyntaxError(error: EntrySyntaxError): string {
  return `error: syntax error${at(error.location)}: ${error.message}`;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
}

/** Where in the entry an error happened, from the stack frame of the entry's script. */
export function entryLocation(error: unknown, scriptName: string, locate: (line: number, column: number) => EntryLocation | null) {
  const stack = typeof (error as ErrorLike)?.stack === 'string' ? ((error as ErrorLike).stack as string) : '';
  const escaped = scriptName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  return frame ? locate(Number(frame[1]) - 1, Number(frame[2]) - 1) : null;
}

export interface RuntimeErrorContext {
  /** Where the session's database is (for the read-only message). */
  where: string;
  location: EntryLocation | null;
  debug: boolean;
}

export function formatRuntimeError(error: unknown, context: RuntimeErrorContext): string {
  let line: string;
  if (error instanceof OpsError) {
    line = `error: ${error.line}`;
  } else if (isReadOnlyRefusal(error)) {
    line = `error: the database refused a write: this console on ${context.where} is read-only — restart with \`gradeops repl --write --reason "…"\` to change data, or --sandbox to try it`;
  } else if (typeof error === 'object' && error !== null && 'message' in error) {
    const e = error as ErrorLike;
    // pg and PGlite call their errors `error`; knex's message already names the statement.
    const name = typeof e.name === 'string' && !/^(error|DatabaseError)$/i.test(e.name) ? `${e.name}: ` : '';
    const message = String(e.message).split('\n')[0];
    line = `error: ${name}${message.length > 400 ? `${message.slice(0, 399)}…` : message}${at(context.location)}`;
  } else {
    line = `error: thrown ${inspect(error, { depth: 2 })}${at(context.location)}`;
  }
  const stack = (error as ErrorLike)?.stack;
  return context.debug && typeof stack === 'string' ? `${line}\n${stack}` : line;
}
