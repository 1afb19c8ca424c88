// Interrupt: one armed vector backed by an eventfd. The kernel (or a device model, or a vfio-user
// server) writes the eventfd; a watcher off the main thread sees it and delivers an async event.

export interface Interrupt extends Disposable {
  /** IRQ index (IrqIndex.MSIX...). */
  readonly index: number;
  readonly vector: number;
  /** The eventfd number (what the kernel or server signals). */
  readonly fd: number;
  /** Total events counted since arming. */
  readonly count: number;
  /** Resolves with the number of events (eventfd counter) at the next signal; rejects on timeout or close. */
  wait(options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<number>;
  /** Call `listener` on every signal; returns an unsubscribe function. */
  onEvent(listener: (events: number) => void): () => void;
  close(): void;
}
