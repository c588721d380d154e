/**
 * `compute` with its recent results kept by argument, at most `kept` of them (all forgotten at once when full): a
 * client sends the same cookie on each request, and what is made of it is then computed once. An undefined
 * result is not kept, so what failed is computed again each time.
 */
export function remembered<Result>(compute: (key: string) => Result, kept = 1024): (key: string) => Result {
  const results = new Map<string, Result>();
  return (key) => {
    const known = results.get(key);
    if (known !== undefined) return known;
    const result = compute(key);
    if (result === undefined) return result;
    if (results.size >= kept) results.clear();
    results.set(key, result);
    return result;
  };
}
