/**
 * The backends mailops can speak, by kind (rclone's `fs.Register`): each with its factory, its id
 * codec and the capabilities it declares. Session asks here for an account's provider; the core
 * asks here how an id reads and what a backend can do. Registering costs nothing at start-up:
 * definitions are small and each factory imports its backend's code only when called.
 */
import { MailopsError } from '../domain/errors.js';
import type { BackendDefinition } from '../domain/provider.js';
import type { BackendKind } from '../domain/types.js';
import { gmailBackend } from './gmail/backend.js';
import { graphBackend } from './graph/backend.js';
import { imapBackend } from './imap/backend.js';

const backends = new Map<BackendKind, BackendDefinition>([
  [imapBackend.kind, imapBackend],
  [gmailBackend.kind, gmailBackend],
  [graphBackend.kind, graphBackend],
]);

/** Adds or replaces a backend (the Gmail and Graph backends; tests register fakes). */
export function registerBackend(definition: BackendDefinition): void {
  backends.set(definition.kind, definition);
}

export function backendFor(kind: BackendKind): BackendDefinition {
  const found = backends.get(kind);
  if (!found) {
    throw new MailopsError('UNSUPPORTED', `this mailops has no ${kind} backend`, {
      hint: `backends here: ${[...backends.keys()].join(', ')}`,
    });
  }
  return found;
}

export function registeredBackends(): BackendDefinition[] {
  return [...backends.values()];
}
