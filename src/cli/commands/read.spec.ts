/** `mailops read`: its options as the run part receives them, and its flags and help. */
import { FOLDER_FLAG, type CommandSpec } from '../command-spec.js';

export interface Options {
  account?: string;
  folder: string;
  html?: boolean;
  headers?: boolean;
  raw?: boolean;
  saveAttachments?: string;
  force?: boolean;
  markRead?: boolean;
  offline?: boolean;
}

export const spec: CommandSpec = {
  name: 'read',
  description: 'show a message: headers, text body, attachments; does not mark it read',
  arguments: [{ name: '<id>', help: 'message id from ls or search (or a UID in --folder)' }],
  flags: [
    { flags: '--html', help: 'print the HTML body' },
    { flags: '--headers', help: 'print all header lines' },
    { flags: '--raw', help: 'print the RFC 5322 message exactly as stored' },
    { flags: '--save-attachments <dir>', help: 'save the attachments into DIR' },
    { flags: '--force', help: 'overwrite existing files when saving attachments' },
    { flags: '--mark-read', help: 'mark the message read' },
    { flags: '--offline', help: 'read the message from the cache that mailops sync fills; do not connect' },
    FOLDER_FLAG,
  ],
  server: true,
};
