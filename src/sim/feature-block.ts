// One DFL feature of the sim card: the card owns its header (the DFH at +0, and for DFH v1 the
// GUID, CSR address, CSR size/group and parameter words, reference/dfl.md "DFH v1 additions")
// and forwards the rest to the feature's body relative to the register origin (the DFH in v0,
// the CSR block in v1). Without a body, the rest reads 0.
import type { SimBlock } from './register-file.js';
import { encodeV1Csr } from '../dfl/dfh.js';
import { DfhReg } from '../dfl/regs/dfh.js';

export interface V1Header {
  guidHigh: bigint;
  guidLow: bigint;
  /** CSR block offset relative to the DFH. */
  csrOffset: number;
  csrSize: number;
  instanceId?: number;
  groupingId?: number;
  /** Parameter words from +0x28 (headers and data), already encoded. */
  params: bigint[];
}

export class FeatureBlock implements SimBlock {
  dfh: bigint;
  readonly #v1: V1Header | undefined;
  readonly #v1Words: bigint[] = [];
  readonly #headerEnd: number;
  readonly #origin: number;
  body: SimBlock | undefined;

  constructor(dfh: bigint, body: SimBlock | undefined, v1?: V1Header) {
    this.dfh = dfh;
    this.body = body;
    this.#v1 = v1;
    if (v1) {
      const csr = encodeV1Csr({ address: BigInt(v1.csrOffset), size: v1.csrSize, hasParams: v1.params.length > 0, instanceId: v1.instanceId, groupingId: v1.groupingId });
      this.#v1Words = [v1.guidLow, v1.guidHigh, csr.csrAddr, csr.sizeGroup, ...v1.params];
      this.#headerEnd = DfhReg.GUID_L + 8 * this.#v1Words.length;
      this.#origin = v1.csrOffset;
    } else {
      this.#headerEnd = 8;
      this.#origin = 0;
    }
  }

  get isV1(): boolean {
    return this.#v1 !== undefined;
  }

  /** Offset of the register origin (CSR block) from the DFH. */
  get origin(): number {
    return this.#origin;
  }

  read64(rel: number): bigint {
    if (rel === 0) return this.dfh;
    if (rel < this.#headerEnd) return this.#v1Words[(rel - DfhReg.GUID_L) >> 3] ?? 0n;
    if (this.body && rel >= this.#origin) return this.body.read64(rel - this.#origin);
    return 0n;
  }

  write64(rel: number, value: bigint): void {
    if (rel < this.#headerEnd) return; // headers are read-only
    if (this.body && rel >= this.#origin) this.body.write64(rel - this.#origin, value);
  }
}
