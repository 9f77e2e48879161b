// Tokens, client secrets and database passwords never reach output, logs or errors: at most
// the last four characters are shown.

export function maskSecret(secret: string | null | undefined): string {
  if (!secret) return '(none)';
  return secret.length <= 4 ? '****' : `****${secret.slice(-4)}`;
}

/** A connection URL with its password replaced, for messages about that URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = maskSecret(decodeURIComponent(parsed.password));
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:/@]*):([^@]*)@/, (_m, user: string) => `://${user}:****@`);
  }
}

/** Removes every occurrence of the given secrets from a free text (an upstream error message, say). */
export function scrub(text: string, secrets: Iterable<string | null | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join(maskSecret(secret));
  }
  return out;
}
