/** The two courseware backends of `courses_courserun.courseware_backend` (spec 1.3). */
export type Provider = 'edxorg' | 'mitxonline';

export const PROVIDERS: readonly Provider[] = ['edxorg', 'mitxonline'];

export interface OAuthClient {
  id: string;
  secret: string;
}

/** What the domain needs to talk to edX / MITx Online: base URLs only, never a simulator. */
export interface EdxSettings {
  baseUrls: Partial<Record<Provider, string>>;
  clients: Record<Provider, OAuthClient>;
  timeoutMs: number;
  /** Extra attempts after a timeout or 5xx, per request. */
  retries: number;
  /** Optional cap on edX calls per second across the process (p-queue interval limit). */
  ratePerSecond?: number;
}
