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
