// RemoteRegion: a trapped region of a vfio-user device. Single accesses are REGION_READ/WRITE
// round trips (TrappedRegion); block writes and 64-bit streams go as REGION_WRITE_MULTI when the
// server supports it (vfio-user.rst "VFIO_USER_REGION_WRITE_MULTI"): up to 200 writes of the
// requested width per message, applied in order, instead of one round trip per word.
import type { Clock } from '../util/clock.js';
import { TrappedRegion, type RegisterAccess } from '../mmio/trapped-region.js';
import { accessError, checkSpan, checkWidth } from '../mmio/checks.js';
import { MULTI_MAX, type MultiWrite } from './messages.js';
import { putLe64 } from '../util/bytes.js';

/** Sends one REGION_WRITE_MULTI (at most MULTI_MAX writes) and waits for its reply. */
export type WriteMulti = (writes: MultiWrite[]) => void;

export class RemoteRegion extends TrappedRegion {
  readonly #index: number;
  readonly #writeMulti: WriteMulti | undefined;

  constructor(name: string, size: number, index: number, access: RegisterAccess, options: { clock?: Clock; onClose?: () => void; writeMulti?: WriteMulti }) {
    super(name, size, access, options);
    this.#index = index;
    this.#writeMulti = options.writeMulti;
  }

  override writeStream64(offset: number, words: BigUint64Array): void {
    const multi = this.#writeMulti;
    if (!multi || words.length < 2) return super.writeStream64(offset, words);
    if (this.closed || !Number.isInteger(offset) || offset < 0 || (offset & 7) !== 0 || offset + 8 > this.size) throw accessError(this.name, this.size, this.closed, offset, 8);
    const off = BigInt(offset);
    for (let at = 0; at < words.length; at += MULTI_MAX) {
      const batch: MultiWrite[] = [];
      for (let i = at; i < Math.min(words.length, at + MULTI_MAX); i++) {
        const data = new Uint8Array(8);
        putLe64(data, 0, words[i]!);
        batch.push({ offset: off, region: this.#index, data });
      }
      multi(batch);
    }
  }

  override writeBlock(offset: number, data: Uint8Array, width: 32 | 64 = 32): void {
    const multi = this.#writeMulti;
    const w = checkWidth(this.name, width);
    if (!multi || data.length <= w) return super.writeBlock(offset, data, width);
    checkSpan(this.name, this.size, this.closed, offset, data.length, w);
    for (let at = 0; at < data.length; at += MULTI_MAX * w) {
      const batch: MultiWrite[] = [];
      for (let i = at; i < Math.min(data.length, at + MULTI_MAX * w); i += w) {
        batch.push({ offset: BigInt(offset + i), region: this.#index, data: data.slice(i, i + w) });
      }
      multi(batch);
    }
  }
}
