/**
 * The connection steps of an HTTPS host an API backend talks to (the token endpoint, the API
 * itself): DNS, TCP and TLS, timed and explained like a mail server's (stages.ts), with no
 * protocol after the handshake. `label` prefixes the step names: "token.dns", "api.tls".
 */
import type { ServerEndpoint } from '../domain/types.js';
import type { Failure } from '../net/failures.js';
import { Stages, Stopped, type DiagnoseSettings } from './stages.js';
import type { DiagnosticStep } from './types.js';

export interface HostCheck {
  steps: DiagnosticStep[];
  failure: Failure | null;
}

export async function checkHttpsHost(label: string, url: string, settings: DiagnoseSettings): Promise<HostCheck> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'https:';
  const endpoint: ServerEndpoint = { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (secure ? 443 : 80)), tls: secure ? 'implicit' : 'none' };
  const stages = new Stages('https', endpoint, settings);
  try {
    (await stages.open()).close();
  } catch (error) {
    if (!(error instanceof Stopped)) throw error;
  }
  return { steps: stages.steps.map((s) => ({ ...s, step: `${label}.${s.step}` })), failure: stages.failure };
}
