// Logging through `debug` namespaces: DEBUG=vfiokit:* shows everything, DEBUG=vfiokit:mmio one layer.
import createDebug from 'debug';

export type Logger = createDebug.Debugger;

export function logger(namespace: string): Logger {
  return createDebug(`vfiokit:${namespace}`);
}

const warned = new Set<string>();
/** Log a message once per process for a given key (e.g. "shim missing, JS fallback"). */
export function once(log: Logger, key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  log(message);
}
