/**
 * TLS settings shared by the IMAP and SMTP connections: verification on
 * unless --insecure, an optional private CA, SNI for host names only
 * (RFC 6066 forbids IP addresses there, and Node warns about them).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { MailopsError } from '../../domain/errors.js';

export async function loadCa(caFile: string | null): Promise<Buffer | null> {
  if (caFile === null) return null;
  try {
    return await readFile(caFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new MailopsError('INVALID_VALUE', `cannot read the CA file ${caFile} (${code})`, {
      hint: 'pass --ca-file with a readable PEM file',
      cause: err,
    });
  }
}

export function tlsOptions(host: string, insecure: boolean, ca: Buffer | null): ConnectionOptions {
  return {
    rejectUnauthorized: !insecure,
    ...(ca ? { ca } : {}),
    ...(isIP(host) === 0 ? { servername: host } : {}),
  };
}

/**
 * Node parses its bundled root certificates when the first TLS context of the process is
 * made (about 25 ms), whether or not a --ca-file replaces them. Done ahead, while the
 * command waits for something else (the secret file's key derivation runs on other
 * threads), the connection does not pay it.
 */
export function loadRootCertificates(): void {
  createSecureContext();
}
