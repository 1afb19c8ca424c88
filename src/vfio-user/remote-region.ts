// RemoteRegion: a trapped region of a vfio-user device. Single accesses are REGION_READ/WRITE
// round trips (TrappedRegion); block writes and 64-bit streams go as REGION_WRITE_MULTI when the
// server supports it (vfio-user.rst "VFIO_USER_REGION_WRITE_MULTI"): up to 200 writes of the
// requested width per message, applied in order, instead of one round trip per word. With the
// vendor REGION_BATCH negotiated it also runs access batches (src/mmio/access-batch.ts) in one
// round trip each.
import type { Clock } from '../util/clock.js';
import { TrappedRegion, type RegisterAccess } from '../mmio/trapped-region.js';
import { accessError, checkSpan, checkWidth } from '../mmio/checks.js';
import type { AccessBatch, AccessBatchResult, AccessBatchRunner } from '../mmio/access-batch.js';
import { WriteMulti } from '../sys/uapi/vfio-user.js';
import { allocWriteMulti, putMultiWrite, putMultiWrite64 } from './messages.js';

/** Sends one REGION_WRITE_MULTI payload (from allocWriteMulti) of `count` writes and waits for its reply. */
export type WriteMulti = (payload: Uint8Array, count: number) => void;

/** Sends one REGION_BATCH of region `index` and returns the decoded reply (vfiokit's vendor command). */
export interface RemoteBatch {
  maxEntries: number;
  maxBytes: number;
  send(index: number, batch: AccessBatch): AccessBatchResult;
}

export class RemoteRegion extends TrappedRegion {
  readonly #index: number;
  readonly #writeMulti: WriteMulti | undefined;
  readonly accessBatch: AccessBatchRunner | undefined;

  constructor(name: string, size: number, index: number, access: RegisterAccess, options: { clock?: Clock; onClose?: () => void; writeMulti?: WriteMulti; batch?: RemoteBatch }) {
    super(name, size, access, options);
    this.#index = index;
    this.#writeMulti = options.writeMulti;
    const batch = options.batch;
    this.accessBatch = batch && {
      maxEntries: batch.maxEntries,
      maxBytes: batch.maxBytes,
      run: (b: AccessBatch): AccessBatchResult => {
        if (this.closed) throw accessError(this.name, this.size, true, 0, 8);
        return batch.send(index, b);
      },
    };
  }

  override writeStream64(offset: number, words: BigUint64Array): void {
    const multi = this.#writeMulti;
    if (!multi || words.length < 2) return super.writeStream64(offset, words);
    if (this.closed || !Number.isInteger(offset) || offset < 0 || (offset & 7) !== 0 || offset + 8 > this.size) throw accessError(this.name, this.size, this.closed, offset, 8);
    for (let at = 0; at < words.length; at += WriteMulti.MAX) {
      const n = Math.min(WriteMulti.MAX, words.length - at);
      const payload = allocWriteMulti(n);
      for (let i = 0; i < n; i++) putMultiWrite64(payload, i, offset, this.#index, words[at + i]!);
      multi(payload, n);
    }
  }

  override writeBlock(offset: number, data: Uint8Array, width: 32 | 64 = 32): void {
    const multi = this.#writeMulti;
    const w = checkWidth(this.name, width);
    if (!multi || data.length <= w) return super.writeBlock(offset, data, width);
    checkSpan(this.name, this.size, this.closed, offset, data.length, w);
    const words = data.length / w;
    for (let at = 0; at < words; at += WriteMulti.MAX) {
      const n = Math.min(WriteMulti.MAX, words - at);
      const payload = allocWriteMulti(n);
      for (let i = 0; i < n; i++) putMultiWrite(payload, i, offset + (at + i) * w, this.#index, data.subarray((at + i) * w, (at + i + 1) * w));
      multi(payload, n);
    }
  }
}
