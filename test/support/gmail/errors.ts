// Google's JSON error envelope, as the Gmail API sends it. The schema package has no type for it
// (errors are outside the discovery document), so the shape is spelled out here once.

export interface GoogleErrorItem {
  message: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

export interface GoogleErrorBody {
  error: { code: number; message: string; errors: GoogleErrorItem[]; status: string };
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Thrown by handlers; the server turns it into the status, headers and envelope above. */
export class GoogleError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
    readonly extra: { domain?: string; status?: string; headers?: Record<string, string>; location?: string } = {},
  ) {
    super(message);
  }

  body(): GoogleErrorBody {
    const item: GoogleErrorItem = { message: this.message, domain: this.extra.domain ?? 'global', reason: this.reason };
    if (this.extra.location) Object.assign(item, { location: this.extra.location, locationType: this.code === 401 ? 'header' : 'parameter' });
    return { error: { code: this.code, message: this.message, errors: [item], status: this.extra.status ?? STATUS[this.code] ?? 'UNKNOWN' } };
  }
}

export const notFound = () => new GoogleError(404, 'Requested entity was not found.', 'notFound');
export const badRequest = (message: string) => new GoogleError(400, message, 'invalidArgument');

export const invalidCredentials = () =>
  new GoogleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    { location: 'Authorization', headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } },
  );

export const insufficientScopes = (needed: readonly string[]) =>
  new GoogleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', {
    headers: { 'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${needed.join(' ')}"` },
  });

/** What the metadata scope refuses (q, raw and full formats): 403 with reason forbidden. */
export const metadataForbids = (message: string) => new GoogleError(403, message, 'forbidden');
