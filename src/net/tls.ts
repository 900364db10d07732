/**
 * TLS settings for every connection (the IMAP and SMTP providers, the sync client,
 * diagnose): verification on unless --insecure, an optional private CA (--ca-file), SNI
 * for host names only (RFC 6066 forbids IP addresses there, and Node warns about them).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions } from 'node:tls';
import { MailopsError } from '../domain/errors.js';

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

/** Diagnose hands these to a handshake that never rejects, so it can show a certificate it then judges. */
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

/**
 * The STARTTLS guard (RFC 9051 11.1, RFC 3207 5; CVE-2011-0411): bytes a server sent after
 * its STARTTLS reply and before the handshake were not protected by it, and a man in the
 * middle may have put them there. Such a server is refused; the reason, or null when none.
 */
export function startTlsInjection(bufferedBytes: number): string | null {
  return bufferedBytes > 0 ? 'the server sent data after the STARTTLS reply, before the handshake' : null;
}
