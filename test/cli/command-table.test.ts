import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS, targetCommand } from '../../src/commands/index.js';

// `gradeops --help` lists the commands from the table in commands/index.ts without loading their
// modules; an operator reading it must see what each command really takes.

describe('the command table', () => {
  it('says what each command module registers: name, usage term and description', async () => {
    const help = new Help();
    for (const entry of COMMANDS) {
      const program = new Command('gradeops');
      (await entry.load())(program);
      const registered = program.commands.find((c) => c.name() === entry.name);
      expect(registered, `${entry.name} is registered by its module`).toBeDefined();
      expect({ name: entry.name, term: help.subcommandTerm(registered!), description: registered!.description() }).toEqual({
        name: entry.name,
        term: entry.term,
        description: entry.description,
      });
    }
  });

  it('lists every command its modules register', async () => {
    const program = new Command('gradeops');
    const loaders = new Set(COMMANDS.map((c) => c.load));
    for (const load of loaders) (await load())(program);
    expect(program.commands.map((c) => c.name()).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  it('finds the command to load after root options and behind `help`', () => {
    expect(targetCommand(['--read-only', 'runs', '--json'])).toBe('runs');
    expect(targetCommand(['help', 'freeze-status'])).toBe('freeze-status');
    expect(targetCommand(['--help'])).toBeUndefined();
  });
});
