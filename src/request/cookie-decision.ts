/** Everything the Set-Cookie decision depends on. */
export interface CookieFacts {
  /** `request.sessionID` still holds a string (anything else there turns the cookie off). */
  idIsString: boolean;
  secureOnly: boolean;
  secureRequest: boolean;
  /** The session is (being) stored, and `request.session` is still this session. */
  storedAndKept: boolean;
  /** The client does not hold this id yet (new or regenerated). */
  idChanged: boolean;
  /** The client's cookie was signed with a retired secret. */
  resign: boolean;
  rolling: boolean;
  persistent: boolean;
  wroteChanges: boolean;
  /** The client sent a valid cookie, and its session was destroyed. */
  destroyedFromCookie: boolean;
}

/** Which Set-Cookie this response needs: the session's, one that clears it, or none. */
export function cookieDecisionOf(facts: CookieFacts): 'session' | 'clear' | undefined {
  if (!facts.idIsString) return undefined;
  if (facts.secureOnly && !facts.secureRequest) return undefined;
  if (facts.storedAndKept) {
    const renew = facts.rolling || (facts.persistent && facts.wroteChanges);
    return facts.idChanged || facts.resign || renew ? 'session' : undefined;
  }
  return facts.destroyedFromCookie ? 'clear' : undefined;
}

/** Why cookieDecisionOf decided as it did, in words (for the trace). */
export function cookieReasonOf(facts: CookieFacts): string {
  if (!facts.idIsString) return 'request.sessionID is not a string';
  if (facts.secureOnly && !facts.secureRequest) {
    return 'the cookie is Secure and the request is not HTTPS (behind a TLS proxy? set the proxy option)';
  }
  if (facts.storedAndKept) {
    if (facts.idChanged) return 'new id';
    if (facts.resign) return 're-signed with the current secret';
    if (facts.rolling) return 'rolling';
    if (facts.persistent && facts.wroteChanges) return 'persistent cookie renewed after a change';
    return 'the client holds it already';
  }
  return facts.destroyedFromCookie ? 'the session was destroyed' : 'the session is not stored';
}
