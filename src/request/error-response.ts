import type { ServerResponse } from 'node:http';
import { SessionError } from '../errors';

/**
 * Answers with an error as JSON: a SessionError's status and message, a generic 500 for anything else (its
 * details stay in the logs). When the headers are out already, the connection is closed instead. Never throws.
 */
export function renderSessionError(response: ServerResponse, error: unknown): void {
  try {
    if (response.headersSent) throw error;
    const status = error instanceof SessionError ? error.status : 500;
    const body = JSON.stringify(
      error instanceof SessionError ? error : { name: 'Error', message: 'Internal Server Error' },
    );
    for (const header of response.getHeaderNames()) response.removeHeader(header);
    response.statusCode = status;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', Buffer.byteLength(body));
    response.end(body);
  } catch {
    response.destroy();
  }
}
