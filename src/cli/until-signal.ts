// Long-running commands (serve, daemon) run until SIGINT or SIGTERM.

/** Resolves on the first SIGINT or SIGTERM (the handlers are removed again). */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
