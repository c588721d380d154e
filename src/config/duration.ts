const unitSeconds: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * A duration option is a number of seconds or a string such as '90s', '30m', '2h', '7d'.
 * Returns milliseconds, or undefined when the value cannot be read as a positive duration.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value > 0 ? value * 1000 : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/.exec(value);
  if (!match) return undefined;
  const milliseconds = Number(match[1]) * unitSeconds[match[2] ?? 's'] * 1000;
  return milliseconds > 0 ? milliseconds : undefined;
}
