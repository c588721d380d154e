/**
 * Where the library puts what it defines once for the requests (or responses) like `target`: the last
 * prototype before Node's own (`nodePrototype`). For Express that is its request (response) object, which
 * every app's per-app prototype inherits from: a mounted app hands a request back to its parent by putting the
 * parent's prototype back on it, and what was defined on the mounted app's prototype would be gone. Node's
 * own prototype serves every request of the process and is left alone: when `target` inherits straight from
 * it (a bare Node server), or does not inherit from it at all, `target` itself is returned.
 */
export function sharedPrototypeOf(target: object, nodePrototype: object): object {
  let below = target;
  let prototype = Object.getPrototypeOf(target) as object | null;
  while (prototype !== null && prototype !== nodePrototype) {
    below = prototype;
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  return prototype === null ? target : below;
}
