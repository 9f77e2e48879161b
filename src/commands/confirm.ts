import { OpsError } from '../domain/errors.js';

/**
 * The typed confirmation of a dangerous command: --confirm, else a prompt on a terminal, else a
 * usage error naming the flag (scripts must say it explicitly).
 */
export async function typedConfirmation(command: string, expected: string, given: string | undefined, what: string): Promise<string> {
  if (given !== undefined) return given;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new OpsError(
      'usage',
      `${command} needs the course key typed as confirmation and there is no terminal to ask on`,
      `pass --confirm ${expected}`,
    );
  }
  const { input } = await import('@inquirer/prompts');
  process.stdin.ref();
  return input({ message: `${what}. Type the course key ${expected} to confirm:` });
}
