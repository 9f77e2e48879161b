import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type TS from 'typescript';

// The console's types come from the real declarations: a TypeScript language service over the
// source of src/repl/context.ts plus one virtual module per accepted entry. Entry N sees the
// helpers and every name an earlier entry declared (the newest declaration of each), so `.type`,
// completion and the check before each entry agree with what the vm will run.
// typescript is loaded on first use only: the first prompt must not wait for it.

type Ts = typeof TS;

/** One helper of the console as context.ts declares it. */
export interface HelperDoc {
  name: string;
  /** `user(usernameOrEmailOrId: string | number): Promise<Learner>` */
  signature: string;
  /** The first line of its comment. */
  summary: string;
  /** The whole comment. */
  description: string;
  /** The argument types of context.ts the signature names (`UserRef = string | number | Learner — …`). */
  notes: string[];
}

/** A type error in an entry, at a 1-based line and column of the entry. */
export interface EntryDiagnostic {
  message: string;
  line: number;
  column: number;
}

export interface TypeService {
  helpers(): HelperDoc[];
  /** Type errors of a candidate entry (nothing is remembered). */
  check(source: string): EntryDiagnostic[];
  /** Remembers an entry that ran, so later entries, `.type` and completion see its declarations. */
  accept(source: string): void;
  /** The type of an expression, with the members of an object type; null when it does not parse. */
  typeOf(expression: string): string | null;
  /** Completions at the end of `text`: the word being completed and the names that fit it. */
  complete(text: string): { word: string; names: string[] };
}

/** The repository holding src/repl/context.ts, from the sources (tsx) or the build (dist/). */
export function findContextSource(from = path.dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'src', 'repl', 'context.ts');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

let loaded: Ts | null = null;

export async function loadTypeScript(): Promise<Ts> {
  // require, not import(): typescript is one 9 MB CommonJS file, and import() would first scan
  // it for named exports (cjs-module-lexer), which alone took seconds.
  loaded ??= createRequire(import.meta.url)('typescript') as Ts;
  return loaded;
}

const GLOBALS = '__console_globals.mts';
const QUERY = '__console_query.mts';
const entryFile = (n: number) => `__console_entry_${n}.mts`;
const specifier = (file: string) => `./${file.replace(/\.mts$/, '.mjs')}`;

type Kind = 'value' | 'type' | 'both';

/** The top-level names an entry declares, and what they are. */
function declaredNames(ts: Ts, file: TS.SourceFile): Map<string, Kind> {
  const names = new Map<string, Kind>();
  const bind = (name: TS.BindingName) => {
    if (ts.isIdentifier(name)) names.set(name.text, 'value');
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of file.statements) {
    if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) bind(d.name);
    else if (ts.isFunctionDeclaration(statement) && statement.name) names.set(statement.name.text, 'value');
    else if ((ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name)
      names.set(statement.name.text, 'both');
    else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) names.set(statement.name.text, 'type');
  }
  return names;
}

function readHelpers(ts: Ts, contextFile: string): HelperDoc[] {
  const source = ts.createSourceFile(contextFile, readFileSync(contextFile, 'utf8'), ts.ScriptTarget.Latest, true);
  const context = source.statements.find(
    (s): s is TS.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'ConsoleContext',
  );
  if (!context) return [];
  const commentOf = (node: TS.Node) => (ts.getTextOfJSDocComment((node as { jsDoc?: TS.JSDoc[] }).jsDoc?.at(-1)?.comment) ?? '').trim();
  const aliases = source.statements
    .filter(ts.isTypeAliasDeclaration)
    .map((a) => ({ name: a.name.text, note: `${a.name.text} = ${a.type.getText(source)} — ${commentOf(a)}` }));
  return context.members.flatMap((member) => {
    if (!member.name || !ts.isIdentifier(member.name)) return [];
    const description = commentOf(member);
    const signature = member
      .getText(source)
      .replace(/;\s*$/, '')
      .replace(/\s*\n\s*/g, ' ');
    const notes = aliases.filter((a) => new RegExp(`\\b${a.name}\\b`).test(signature)).map((a) => a.note);
    return [{ name: member.name.text, signature, summary: description.split('\n')[0] ?? '', description, notes }];
  });
}

export function createTypeService(ts: Ts, contextFile: string): TypeService {
  const dir = path.dirname(contextFile);
  const root = path.resolve(dir, '..', '..');
  const full = (name: string) => path.join(dir, name);
  const helpers = readHelpers(ts, contextFile);

  const options: TS.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    // A console is for quick lambdas: `rows.map((r) => r.id)` should not need annotations.
    noImplicitAny: false,
    skipLibCheck: true,
    esModuleInterop: true,
    noEmit: true,
  };

  const virtual = new Map<string, { text: string; version: number }>();
  const disk = new Map<string, TS.IScriptSnapshot | undefined>();
  const setFile = (name: string, text: string) => {
    const previous = virtual.get(full(name));
    if (previous?.text === text) return;
    virtual.set(full(name), { text, version: (previous?.version ?? 0) + 1 });
  };
  setFile(
    GLOBALS,
    `import type { ConsoleContext } from './context.js';\n${helpers.map((h) => `export declare const ${h.name}: ConsoleContext['${h.name}'];`).join('\n')}\n`,
  );

  const host: TS.LanguageServiceHost = {
    getScriptFileNames: () => [...virtual.keys()],
    getScriptVersion: (file) => String(virtual.get(file)?.version ?? 0),
    getScriptSnapshot(file) {
      const v = virtual.get(file);
      if (v) return ts.ScriptSnapshot.fromString(v.text);
      if (!disk.has(file)) {
        const text = ts.sys.readFile(file);
        disk.set(file, text === undefined ? undefined : ts.ScriptSnapshot.fromString(text));
      }
      return disk.get(file);
    },
    getCurrentDirectory: () => root,
    getCompilationSettings: () => options,
    getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
    fileExists: (file) => virtual.has(file) || ts.sys.fileExists(file),
    readFile: (file) => virtual.get(file)?.text ?? ts.sys.readFile(file),
    readDirectory: (...args) => ts.sys.readDirectory(...args),
    directoryExists: (d) => ts.sys.directoryExists(d),
    getDirectories: (d) => ts.sys.getDirectories(d),
  };
  const service = ts.createLanguageService(host, ts.createDocumentRegistry());

  // name → where its newest declaration lives, and what it is.
  const scope = new Map<string, { file: string; kind: Kind }>(helpers.map((h) => [h.name, { file: GLOBALS, kind: 'value' as const }]));
  let accepted = 0;

  /** One line of declarations that bring the scope into a virtual module, minus its own names. */
  const header = (own: ReadonlySet<string>) =>
    [...scope]
      .filter(([name]) => !own.has(name))
      .map(([name, { file, kind }]) =>
        kind === 'value'
          ? `declare let ${name}: typeof import('${specifier(file)}').${name};`
          : `import ${kind === 'type' ? 'type ' : ''}{ ${name} } from '${specifier(file)}';`,
      )
      .join(' ');

  const entryText = (source: string) => {
    const own = declaredNames(ts, ts.createSourceFile('entry.ts', source, ts.ScriptTarget.Latest));
    return { own, text: `${header(new Set(own.keys()))}\n${source}\nexport { ${[...own.keys()].join(', ')} };\n` };
  };

  const diagnosticsOf = (file: string): EntryDiagnostic[] => {
    const name = full(file);
    const all = [...service.getSyntacticDiagnostics(name), ...service.getSemanticDiagnostics(name)];
    const sourceFile = service.getProgram()?.getSourceFile(name);
    return all.flatMap((d) => {
      if (d.category !== ts.DiagnosticCategory.Error || d.start === undefined || !sourceFile) return [];
      const { line, character } = sourceFile.getLineAndCharacterOfPosition(d.start);
      if (line === 0) return [];
      const lines = ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n');
      const message = lines.length > 3 ? [...lines.slice(0, 2), lines[lines.length - 1]] : lines;
      return [{ message: message.map((l) => l.trim()).join(' '), line, column: character + 1 }];
    });
  };

  const query = (body: string) => {
    setFile(QUERY, `${header(new Set())}\n${body}\nexport {};\n`);
    const program = service.getProgram()!;
    return { program, file: program.getSourceFile(full(QUERY))!, checker: program.getTypeChecker() };
  };

  return {
    helpers: () => helpers,

    check(source) {
      setFile(entryFile(accepted), entryText(source).text);
      return diagnosticsOf(entryFile(accepted));
    },

    accept(source) {
      const { own, text } = entryText(source);
      setFile(entryFile(accepted), text);
      for (const [name, kind] of own) scope.set(name, { file: entryFile(accepted), kind });
      accepted++;
    },

    typeOf(expression) {
      const { file, checker } = query(`const __value = (\n${expression}\n);`);
      const declaration = file.statements
        .filter(ts.isVariableStatement)
        .flatMap((s) => [...s.declarationList.declarations])
        .find((d) => ts.isIdentifier(d.name) && d.name.text === '__value');
      // An expression that swallowed the closing parenthesis (a comment, a stray bracket) is no expression.
      if (!declaration?.initializer || service.getSyntacticDiagnostics(full(QUERY)).length > 0) return null;
      const flags = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;
      const type = checker.getTypeAtLocation(declaration.name);
      const lines = [checker.typeToString(type, declaration, flags)];
      const awaited = checker.getNonNullableType(checker.getAwaitedType(type) ?? type);
      const isPlainObject =
        awaited.flags & ts.TypeFlags.Object &&
        awaited.getCallSignatures().length === 0 &&
        !checker.isArrayLikeType(awaited) &&
        awaited.getProperties().length > 0;
      if (isPlainObject && !(awaited.flags & ts.TypeFlags.Union)) {
        const name = checker.typeToString(awaited, declaration, flags);
        const props = awaited.getProperties().slice(0, 40);
        // `Promise<CourseRun>` then `CourseRun { … }`; a type that is its own expansion is shown once.
        if (lines[0] === name) lines.pop();
        lines.push(`${name.length > 60 ? 'fields' : name} {`);
        for (const prop of props) {
          const propType = checker.getTypeOfSymbolAtLocation(prop, declaration);
          const optional = prop.flags & ts.SymbolFlags.Optional ? '?' : '';
          lines.push(`  ${prop.name}${optional}: ${checker.typeToString(propType, declaration, flags)}`);
        }
        if (awaited.getProperties().length > props.length) lines.push(`  … ${awaited.getProperties().length - props.length} more`);
        lines.push('}');
      }
      return lines.join('\n');
    },

    complete(text) {
      const word = /[\p{L}\p{N}_$]*$/u.exec(text)?.[0] ?? '';
      const { file } = query(text);
      const completions = service.getCompletionsAtPosition(full(QUERY), file.text.indexOf('\n') + 1 + text.length, {});
      const names = (completions?.entries ?? [])
        .map((e) => e.name)
        .filter((name) => name.startsWith(word) && !name.startsWith('__'))
        .sort();
      return { word, names: [...new Set(names)] };
    },
  };
}
