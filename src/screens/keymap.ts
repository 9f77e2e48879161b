import type { Key } from 'ink';

// THE table of keys (issue #7): every screen resolves a keypress here, the footer and the help
// overlay read their labels from here, and read-only mode drops the dangerous ones (k9s'
// action.go). A screen offers a subset; the same key never means two things.

export type ActionId =
  | 'help'
  | 'filter'
  | 'down'
  | 'up'
  | 'page-down'
  | 'page-up'
  | 'open'
  | 'back'
  | 'quit'
  | 'find-learner'
  | 'freeze'
  | 'complete'
  | 'revert'
  | 'resync'
  | 'refresh'
  | 'refresh-edx'
  | 'compute'
  | 'stop'
  | 'exam-runs';

export interface KeyBinding {
  id: ActionId;
  /** What is pressed: a printable character, or one of up, down, enter, esc, pgup, pgdn. */
  keys: readonly string[];
  /** How the footer names it. */
  label: string;
  /** What the help overlay says it does. */
  help: string;
  /** global: every screen has it; screen: only where a screen offers it. */
  scope: 'global' | 'screen';
  /** It writes: hidden from the footer and refused in read-only mode. */
  dangerous: boolean;
}

export const KEYMAP: readonly KeyBinding[] = [
  { id: 'help', keys: ['?'], label: 'help', help: 'show every key of this screen', scope: 'global', dangerous: false },
  { id: 'filter', keys: ['/'], label: 'filter', help: 'filter the list as you type (Esc clears)', scope: 'screen', dangerous: false },
  { id: 'down', keys: ['j', 'down'], label: 'move', help: 'move down', scope: 'screen', dangerous: false },
  { id: 'up', keys: ['k', 'up'], label: 'move', help: 'move up', scope: 'screen', dangerous: false },
  { id: 'page-down', keys: ['pgdn'], label: 'page', help: 'move down a page', scope: 'screen', dangerous: false },
  { id: 'page-up', keys: ['pgup'], label: 'page', help: 'move up a page', scope: 'screen', dangerous: false },
  { id: 'open', keys: ['enter'], label: 'open', help: 'open the selected line', scope: 'screen', dangerous: false },
  { id: 'freeze', keys: ['f'], label: 'freeze', help: 'freeze wizard for the selected course run', scope: 'screen', dangerous: true },
  {
    id: 'complete',
    keys: ['c'],
    label: 'force-complete',
    help: 'mark the course run complete by force (explained, then typed confirmation)',
    scope: 'screen',
    dangerous: true,
  },
  {
    id: 'revert',
    keys: ['r'],
    label: 'revert',
    help: 'guided revert of the course run: what goes, snapshot, typed confirmation',
    scope: 'screen',
    dangerous: true,
  },
  {
    id: 'resync',
    keys: ['s'],
    label: 'resync',
    help: "compare the learner's FinalGrade with edX now and apply it after typing the username",
    scope: 'screen',
    dangerous: true,
  },
  {
    id: 'refresh-edx',
    keys: ['e'],
    label: 'refresh edX data',
    help: "fetch the learner's enrollments and grades from edX again and show what changed",
    scope: 'screen',
    dangerous: true,
  },
  {
    id: 'compute',
    keys: ['g'],
    label: 'compute grade',
    help: 'compute the final grade from the cached edX data: the rule and its inputs (writes nothing)',
    scope: 'screen',
    dangerous: false,
  },
  {
    id: 'stop',
    keys: ['x'],
    label: 'stop freeze',
    help: 'stop the freeze started here: learners in flight finish, running it again resumes',
    scope: 'screen',
    dangerous: false,
  },
  {
    id: 'exam-runs',
    keys: ['p'],
    label: 'exam runs',
    help: 'the proctored exam runs: check a grades file, its projection, import, release, combined grades, certificates',
    scope: 'screen',
    dangerous: false,
  },

  { id: 'refresh', keys: ['R'], label: 'refresh', help: 'read everything on this screen again now', scope: 'screen', dangerous: false },
  { id: 'back', keys: ['esc'], label: 'back', help: 'go back, or close what is open', scope: 'screen', dangerous: false },
  { id: 'find-learner', keys: ['u'], label: 'find learner', help: 'find a learner from any screen', scope: 'global', dangerous: false },
  {
    id: 'quit',
    keys: ['q'],
    label: 'quit',
    help: 'quit gradeops (asks first while a freeze started here is running)',
    scope: 'global',
    dangerous: false,
  },
];

const BY_ID = new Map(KEYMAP.map((b) => [b.id, b]));

export function binding(id: ActionId): KeyBinding {
  return BY_ID.get(id)!;
}

export function isDangerous(id: ActionId): boolean {
  return binding(id).dangerous;
}

/** The name of the key pressed, in the keymap's terms. */
function keyName(input: string, key: Key): string | null {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.return) return 'enter';
  if (key.escape) return 'esc';
  if (key.pageDown) return 'pgdn';
  if (key.pageUp) return 'pgup';
  if (key.ctrl || key.meta) return null;
  return input.length === 1 ? input : null;
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * The keypresses in one input event. Ink hands over everything read at once as one event, and
 * while a PGlite query holds the event loop a few keys typed quickly arrive together ("jjq"):
 * text is split back into one press per character, an Enter or a Backspace among them included.
 */
export function keypresses(input: string, key: Key): Array<{ input: string; key: Key }> {
  const chars = [...input];
  if (chars.length <= 1 || key.ctrl || key.meta || key.escape) return [{ input, key }];
  return chars.flatMap((c) => {
    if (c === '\r' || c === '\n') return [{ input: '', key: { ...NO_KEY, return: true } }];
    if (c === '\u007f' || c === '\b') return [{ input: '', key: { ...NO_KEY, backspace: true } }];
    if (c === '\t') return [{ input: '', key: { ...NO_KEY, tab: true } }];
    if (c < ' ') return [];
    return [{ input: c, key: { ...NO_KEY, shift: c !== c.toLowerCase() } }];
  });
}

/** The action a keypress means, among those given (all when omitted). */
export function resolveKey(input: string, key: Key, among?: ReadonlySet<ActionId>): ActionId | null {
  const name = keyName(input, key);
  if (name === null) return null;
  for (const b of KEYMAP) {
    if (among && !among.has(b.id)) continue;
    if (b.keys.includes(name)) return b.id;
  }
  return null;
}

/** How the footer and the help overlay write a binding's keys: "j/k", "Enter", "Esc". */
export function keyLabel(keys: readonly string[]): string {
  const shown: Record<string, string> = { enter: 'Enter', esc: 'Esc', up: '↑', down: '↓', pgup: 'PgUp', pgdn: 'PgDn' };
  return keys.map((k) => shown[k] ?? k).join('/');
}

export interface FooterKey {
  keys: string;
  label: string;
}

/**
 * The footer of a screen offering `ids`, with screen-specific labels; dangerous actions are left
 * out in read-only mode. Moving keys are shown once, as "j/k". The global keys come last.
 */
export function footerKeys(
  ids: readonly ActionId[],
  readOnly: boolean,
  labels: Partial<Record<ActionId, string>> = {},
  textEntry = false,
): FooterKey[] {
  const offered = new Set<ActionId>(ids);
  const out: FooterKey[] = [];
  // While a text field has the keyboard, j and k are typed: only the arrows move.
  if (offered.has('down') || offered.has('up')) out.push({ keys: textEntry ? '↑/↓' : 'j/k', label: 'move' });
  for (const b of KEYMAP) {
    if (!offered.has(b.id) || b.scope === 'global' || ['down', 'up', 'page-down', 'page-up'].includes(b.id)) continue;
    if (readOnly && b.dangerous) continue;
    out.push({ keys: keyLabel(b.keys), label: labels[b.id] ?? b.label });
  }
  return out;
}

/** The keys every screen has, at the end of every footer. */
export const GLOBAL_FOOTER: readonly FooterKey[] = [
  { keys: 'u', label: 'find learner' },
  { keys: '?', label: 'help' },
  { keys: 'q', label: 'quit' },
];

/** Every key of a screen for the help overlay, with what it does there. */
export function helpLines(
  ids: readonly ActionId[],
  readOnly: boolean,
  labels: Partial<Record<ActionId, string>> = {},
): Array<{ keys: string; help: string }> {
  const offered = new Set<ActionId>([...ids, 'help', 'find-learner', 'quit']);
  return KEYMAP.filter((b) => offered.has(b.id) && !(readOnly && b.dangerous)).map((b) => ({
    keys: keyLabel(b.keys),
    help: labels[b.id] && labels[b.id] !== b.label ? `${labels[b.id]}: ${b.help}` : b.help,
  }));
}
