// Graph's JSON error envelope ({"error":{"code","message","innerError"}}) and the codes the mail
// API answers with. The types package has no type for the envelope (errors are outside the
// metadata), so it is spelled out here once. Codes and messages are the ones Exchange Online sends.
import { randomUUID } from 'node:crypto';

export interface GraphErrorBody {
  error: {
    code: string;
    message: string;
    innerError: { date: string; 'request-id': string; 'client-request-id': string; code?: string };
  };
}

/** Thrown by handlers; the server turns it into the status, headers and envelope. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerCode?: string,
  ) {
    super(message);
  }

  body(): GraphErrorBody {
    const requestId = randomUUID();
    const innerError: GraphErrorBody['error']['innerError'] = { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': requestId };
    if (this.innerCode) innerError.code = this.innerCode;
    return { error: { code: this.code, message: this.message, innerError } };
  }
}

export const invalidToken = (why = 'IDX14100: JWT is not well formed, there are no dots (.).') =>
  new GraphError(401, 'InvalidAuthenticationToken', why, { 'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"' });
export const accessDenied = () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
export const itemNotFound = () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
export const idMalformed = () => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
export const otherMailboxId = () => new GraphError(400, 'ErrorInvalidMailboxItemId', "Item Id doesn't belong to the current mailbox.");
export const badRequest = (message: string, code = 'BadRequest') => new GraphError(400, code, message);
/** An unknown path: what Graph answers for a segment it cannot resolve. */
export const noResource = (path: string) => new GraphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').filter(Boolean).pop() ?? ''}'.`);
export const methodNotAllowed = () => new GraphError(405, 'ErrorInvalidRequest', 'The OData request is not supported.');
/** Graph's request limit for JSON and MIME bodies (sendMail, createMessage, attachments) is 4 MB. */
export const tooLarge = () => new GraphError(413, 'ErrorRequestEntityTooLarge', 'The request entity is too large.');
export const syncStateNotFound = () => new GraphError(410, 'SyncStateNotFound', 'The sync state could not be found; it may have expired. Start a new sync without a state token.');
