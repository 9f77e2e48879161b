import { OpsError } from '../errors.js';
import type { EdxSettings, Provider } from './edx-settings.js';

// The names an operator sees for each courseware backend, and where its base URL comes from.

export function serviceName(provider: Provider): string {
  return provider === 'edxorg' ? 'edX' : 'MITx Online';
}

/** The MicroMasters setting that holds the backend's base URL (spec 3.1). */
export function callbackUrlVariable(provider: Provider): string {
  return provider === 'edxorg' ? 'EDXORG_CALLBACK_URL' : 'MITXONLINE_CALLBACK_URL';
}

export function baseUrlFor(settings: EdxSettings, provider: Provider): string {
  const url = settings.baseUrls[provider];
  if (!url) {
    throw new OpsError(
      'config',
      `no base URL is configured for ${serviceName(provider)}`,
      `set ${callbackUrlVariable(provider)} (the ${serviceName(provider)} LMS address MicroMasters uses)`,
    );
  }
  return url;
}
