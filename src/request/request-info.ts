import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Whether the request came over https; `proxy` decides whether X-Forwarded-Proto is believed. */
export function isSecureRequest(request: IncomingMessage, proxy: boolean | undefined): boolean {
  if ((request.socket as TLSSocket).encrypted) return true;
  if (proxy === undefined) {
    const expressSecure = (request as { secure?: unknown }).secure;
    return expressSecure === true;
  }
  if (!proxy) return false;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}
