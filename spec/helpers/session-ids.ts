/** The session id in a `sid=s%3A<id>.<signature>` cookie pair, as a server set it. */
export function sessionIdOfCookie(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  if (!value.startsWith('s:')) throw new Error(`not a signed session cookie: ${cookie}`);
  return value.slice(2, value.lastIndexOf('.'));
}
