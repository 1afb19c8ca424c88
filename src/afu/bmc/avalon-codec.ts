// Chooses the Avalon-ST byte loops: the C shim's (shim/spi_avmm.c) when it is built, else the JS
// versions in avalon.ts. Both have the same contract and are tested against each other.
import { depacketizeJs, packetizeJs } from './avalon.js';

export interface AvalonCodec {
  readonly native: boolean;
  packetize(trans: Uint8Array, transLen: number, phy: Uint8Array, wordLen: number): number;
  depacketize(phy: Uint8Array, len: number, state: Int32Array, out: Uint8Array, consumed: Int32Array): number;
}

export const jsCodec: AvalonCodec = { native: false, packetize: packetizeJs, depacketize: depacketizeJs };

let current: AvalonCodec = jsCodec;

/** The codec in use. */
export function avalonCodec(): AvalonCodec {
  return current;
}

/** Select a codec (tests compare both; the shim loader installs the native one). */
export function setAvalonCodec(codec: AvalonCodec): void {
  current = codec;
}
