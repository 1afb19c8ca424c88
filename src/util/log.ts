// Logging through `debug` namespaces: DEBUG=vfiokit:* shows everything, DEBUG=vfiokit:mmio one layer.
import createDebug from 'debug';

/**
 * A `debug` logger: call it like `console.log` (printf-style formats); `enabled` says whether its
 * namespace is on. Declared here rather than as `debug`'s own type so that the published
 * declarations need no `@types/debug` in the consumer.
 */
export interface Logger {
  (formatter: unknown, ...args: unknown[]): void;
  readonly namespace: string;
  enabled: boolean;
}

export function logger(namespace: string): Logger {
  return createDebug(`vfiokit:${namespace}`) satisfies Logger;
}

const warned = new Set<string>();
/** Log a message once per process for a given key (e.g. "shim missing, JS fallback"). */
export function once(log: Logger, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log(message);
}
