import { redactUrl } from '../secrets.js';
import type { EdxSettings, Provider } from './edx-settings.js';
import { callbackUrlVariable, serviceName } from './providers.js';

// Is edX (or MITx Online) there at all? Any HTTP answer proves the base URL reaches a server; only
// the network failing (refused, DNS, timeout) fails the probe. Nothing is sent but a GET.

export interface EdxProbe {
  ok: boolean;
  detail: string;
  fix?: string;
}

export async function probeEdx(settings: EdxSettings, provider: Provider): Promise<EdxProbe> {
  const name = serviceName(provider);
  const url = settings.baseUrls[provider];
  if (!url) {
    return {
      ok: false,
      detail: `${callbackUrlVariable(provider)} is not set`,
      fix: `set ${callbackUrlVariable(provider)} to the ${name} base URL`,
    };
  }
  try {
    const response = await fetch(new URL('/oauth2/access_token/', url), {
      method: 'GET',
      signal: AbortSignal.timeout(Math.min(settings.timeoutMs, 5_000)),
    });
    await response.body?.cancel().catch(() => {});
    return { ok: true, detail: `${redactUrl(url)} answers (HTTP ${response.status})` };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const reason = err.name === 'TimeoutError' ? 'no answer in time' : (err.cause?.code ?? err.cause?.message ?? err.message);
    return {
      ok: false,
      detail: `${redactUrl(url)} does not answer (${reason})`,
      fix: `check ${callbackUrlVariable(provider)} and the network path to ${name}`,
    };
  }
}
