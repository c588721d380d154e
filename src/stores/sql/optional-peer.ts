import { SessionConfigError } from '../../errors';

/** Throws a SessionConfigError naming the package when a driver's optional peer is not installed. */
export function requirePeer(driver: string, packageName: string): void {
  try {
    require.resolve(packageName);
  } catch {
    throw new SessionConfigError(
      `driver '${driver}' needs the ${packageName} package: npm install ${packageName} ` +
        '(an optional peer dependency of routing-controllers-session, loaded only by that driver).',
    );
  }
}
