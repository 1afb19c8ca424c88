// MSI-X vectors of the simulated card. Arming a vector creates a real eventfd wrapped in the
// EventfdInterrupt every transport hands out; the card raises a vector with a real eventfd write,
// as vfio-pci does from its interrupt handler, and the eventfd watcher delivers it to wait() and
// onEvent() off the JS thread. A vector that is not armed (or whose Interrupt was closed) is not
// delivered; the card then leaves it pending in the PBA.
import { EventfdInterrupt } from '../device/eventfd-interrupt.js';
import { ArgumentError } from '../errors.js';
import { eventfdWrite } from '../sys/libc.js';

export class SimInterrupts {
  readonly #name: string;
  readonly #vectors: (EventfdInterrupt | undefined)[];

  constructor(name: string, vectors: number) {
    this.#name = name;
    this.#vectors = new Array<EventfdInterrupt | undefined>(vectors).fill(undefined);
  }

  /** Arm start..start+count-1 (re-arming a vector replaces its eventfd, as VFIO_DEVICE_SET_IRQS does). */
  enable(index: number, start: number, count: number): EventfdInterrupt[] {
    const n = this.#vectors.length;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > n) {
      throw new ArgumentError('EARG_IRQ_RANGE', `${this.#name}: MSI-X vectors ${start}..${start + count - 1} are not inside 0..${n - 1}`, { start, count, vectors: n });
    }
    const out: EventfdInterrupt[] = [];
    try {
      for (let v = start; v < start + count; v++) {
        out.push(new EventfdInterrupt({ index, vector: v, name: `${this.#name} MSI-X vector ${v}` }));
      }
    } catch (err) {
      for (const irq of out) irq.close();
      throw err;
    }
    for (const irq of out) {
      this.#vectors[irq.vector]?.close();
      this.#vectors[irq.vector] = irq;
    }
    return out;
  }

  /** Raise `vector` (eventfd write); false when it is not armed. */
  signal(vector: number): boolean {
    const irq = this.#vectors[vector];
    if (!irq || irq.closed) return false;
    eventfdWrite(irq.fd, 1);
    return true;
  }

  disableAll(): void {
    for (let v = 0; v < this.#vectors.length; v++) {
      this.#vectors[v]?.close();
      this.#vectors[v] = undefined;
    }
  }
}
