/** PKCE (RFC 7636, S256) and the `state` value that ties a redirect to the request that caused it. */
import { createHash, randomBytes } from 'node:crypto';

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** 32 random bytes: a 43-character verifier, the minimum length RFC 7636 allows and plenty of entropy. */
export function makePkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), method: 'S256' };
}

export function makeState(): string {
  return randomBytes(16).toString('base64url');
}
