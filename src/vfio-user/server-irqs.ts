// The hosted Device's interrupts as the server serves them: DEVICE_GET_IRQ_INFO's source, and
// DEVICE_SET_IRQS (vfio-user.rst "VFIO_USER_DEVICE_SET_IRQS"): the client's eventfds per vector,
// mask/unmask with a pending bit, and the device's interrupts armed and forwarded to those eventfds.
import type { Device, IrqInfo } from '../device/device.js';
import type { Interrupt } from '../device/interrupt.js';
import { closeQuietly, eventfdWrite } from '../sys/libc.js';
import { logger } from '../util/log.js';
import { IrqSetFlags } from '../sys/uapi/linux-vfio.js';
import { decodeIrqSet } from './messages.js';

const { ACTION_MASK, ACTION_TRIGGER, ACTION_UNMASK, ACTION_TYPE_MASK, DATA_BOOL, DATA_EVENTFD, DATA_NONE, DATA_TYPE_MASK } = IrqSetFlags;
import { Errno } from './protocol.js';
import { errnoOf } from './server-dma.js';
import { refuse } from './server-refusal.js';

const log = logger('vfio-user:server');

interface IrqVector {
  clientFd: number;
  masked: boolean;
  pending: boolean;
}

export class ServedIrqs {
  readonly #device: Device;
  /** Connection name, for logs. */
  readonly #name: string;
  /** Per IRQ index: vector -> client's eventfd state. */
  #irqs = new Map<number, Map<number, IrqVector>>();
  /** Per IRQ index: the hosted device's armed interrupts and our subscriptions. */
  #armed = new Map<number, { interrupts: Interrupt[]; unsubscribe: (() => void)[] }>();

  constructor(device: Device, name: string) {
    this.#device = device;
    this.#name = name;
  }

  info(index: number): IrqInfo {
    if (index >= this.#device.irqCount) refuse(Errno.EINVAL, `IRQ index ${index} does not exist (the device has ${this.#device.irqCount})`);
    return this.#device.irqInfo(index);
  }

  /** Handle DEVICE_SET_IRQS; takes `fds` (kept as vector eventfds, or closed). */
  set(p: Uint8Array, fds: number[]): void {
    let kept = false;
    try {
      const s = decodeIrqSet(p);
      const info = this.info(s.index);
      const data = s.flags & DATA_TYPE_MASK;
      const action = s.flags & ACTION_TYPE_MASK;
      if (data !== DATA_EVENTFD && fds.length > 0) refuse(Errno.EINVAL, `SET_IRQS without DATA_EVENTFD carries ${fds.length} fds`);
      if (data === DATA_NONE && action === ACTION_TRIGGER && s.count === 0) {
        if (s.start !== 0) refuse(Errno.EINVAL, 'SET_IRQS disable-all needs start 0');
        this.#disarm(s.index);
        return;
      }
      if (s.count === 0 || s.start + s.count > info.count) refuse(Errno.EINVAL, `SET_IRQS vectors ${s.start}..${s.start + s.count - 1} are outside index ${s.index}'s ${info.count} vectors`);
      if (data === DATA_EVENTFD) {
        if (action !== ACTION_TRIGGER) refuse(Errno.ENOTSUP, 'SET_IRQS: mask/unmask eventfds are not supported; use DATA_NONE/BOOL with MASK/UNMASK');
        if (fds.length !== 0 && fds.length !== s.count) refuse(Errno.EINVAL, `SET_IRQS DATA_EVENTFD for ${s.count} vectors carries ${fds.length} fds (count, or 0 to de-assign)`);
        kept = true;
        this.#assign(s.index, s.start, s.count, fds, info);
        return;
      }
      const vectors = this.#irqs.get(s.index);
      for (let i = 0; i < s.count; i++) {
        if (data === DATA_BOOL && s.bools![i] === 0) continue;
        const v = vectors?.get(s.start + i);
        if (!v) continue;
        if (action === ACTION_TRIGGER) this.#signal(v, 1);
        else if (action === ACTION_MASK) v.masked = true;
        else if (action === ACTION_UNMASK) {
          v.masked = false;
          if (v.pending) {
            v.pending = false;
            this.#signal(v, 1);
          }
        }
      }
    } finally {
      if (!kept) for (const fd of fds) closeQuietly(fd);
    }
  }

  /** Assign (or with no fds, de-assign) the client's eventfds to vectors start..start+count-1 and re-arm the device. */
  #assign(index: number, start: number, count: number, fds: number[], info: IrqInfo): void {
    let vectors = this.#irqs.get(index);
    if (!vectors) this.#irqs.set(index, (vectors = new Map()));
    for (let i = 0; i < count; i++) {
      const old = vectors.get(start + i);
      if (old) closeQuietly(old.clientFd);
      const fd = fds[i];
      if (fd === undefined || fd < 0) vectors.delete(start + i);
      else vectors.set(start + i, { clientFd: fd, masked: false, pending: false });
    }
    this.#rearm(index, info);
  }

  #rearm(index: number, info: IrqInfo): void {
    this.#unsubscribe(index);
    const vectors = this.#irqs.get(index);
    if (!vectors || vectors.size === 0) {
      try { this.#device.disableInterrupts(index); } catch { /* nothing was armed */ }
      return;
    }
    const top = Math.max(...vectors.keys()) + 1;
    try { this.#device.disableInterrupts(index); } catch { /* nothing was armed */ }
    let interrupts: Interrupt[];
    try {
      interrupts = this.#device.enableInterrupts(index, 0, Math.min(top, info.count));
    } catch (err) {
      refuse(errnoOf(err), `the device cannot arm IRQ index ${index}: ${(err as Error).message}`);
      return;
    }
    const unsubscribe = interrupts.map((irq) => irq.onEvent((events) => {
      const v = this.#irqs.get(index)?.get(irq.vector);
      if (v) this.#signal(v, events);
    }));
    this.#armed.set(index, { interrupts, unsubscribe });
  }

  #signal(v: IrqVector, events: number): void {
    if (v.masked) {
      v.pending = true;
      return;
    }
    try {
      eventfdWrite(v.clientFd, Math.max(1, events));
    } catch (err) {
      log('%s: signalling eventfd %d failed: %s', this.#name, v.clientFd, (err as Error).message);
    }
  }

  #unsubscribe(index: number): void {
    const armed = this.#armed.get(index);
    if (!armed) return;
    for (const u of armed.unsubscribe) u();
    this.#armed.delete(index);
  }

  #disarm(index: number): void {
    this.#unsubscribe(index);
    const vectors = this.#irqs.get(index);
    if (vectors) for (const v of vectors.values()) closeQuietly(v.clientFd);
    this.#irqs.delete(index);
    try { this.#device.disableInterrupts(index); } catch { /* nothing was armed */ }
  }

  /** Disarm every index that has client eventfds and close them. */
  close(): void {
    for (const index of [...this.#irqs.keys()]) this.#disarm(index);
  }
}
