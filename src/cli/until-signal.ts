// Long-running commands (serve, daemon) run until SIGINT or SIGTERM (or another event they name).

/** Resolves on the first SIGINT or SIGTERM, or when `also` fires (the handlers are removed again). */
export function untilSignal(also?: { once(event: 'close', fn: () => void): unknown; off(event: 'close', fn: () => void): unknown }): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      also?.off('close', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    also?.once('close', stop);
  });
}
