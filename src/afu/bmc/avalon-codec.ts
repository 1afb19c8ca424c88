// The Avalon-ST byte loops and where they run. shim/spi_avmm.c (loaded through src/sys/shim.ts
// shimLibrary()) has C versions of the codec and a whole-transaction loop; avalon.ts has the JS
// versions (same contract; test/bmc/avalon-native.test.ts runs them side by side).
// Measured (benchmarks/flash.ts): on a trapped region every SPI word is a JS callback anyway and
// the receive side decodes one 4-byte word per call, so a koffi call per word costs more than the
// JS loop: the JS codec is the default there. On a MAPPED feature 0xE the whole transaction (every
// indirect register access, TX and RX, decode) is one call into C: nativeTransact().
import { shimLibrary } from '../../sys/shim.js';
import { logger, once } from '../../util/log.js';
import { depacketizeJs, packetizeJs } from './avalon.js';

const log = logger('bmc:spi');

export interface AvalonCodec {
  readonly native: boolean;
  packetize(trans: Uint8Array, transLen: number, phy: Uint8Array, wordLen: number): number;
  depacketize(phy: Uint8Array, len: number, state: Int32Array, out: Uint8Array, consumed: Int32Array): number;
}

/** One whole SPI-AVMM transaction over a mapped feature 0xE (shim only). */
export type NativeTransact = (base: bigint, featureOffset: number, cs: number, phy: Uint8Array, phyLen: number, out: Uint8Array, cap: number, maxIdleWords: number, counters: BigUint64Array) => number;

export const jsCodec: AvalonCodec = { native: false, packetize: packetizeJs, depacketize: depacketizeJs };

let native: { codec: AvalonCodec; transact: NativeTransact } | undefined | null = null;

function loadNative(): { codec: AvalonCodec; transact: NativeTransact } | undefined {
  const lib = shimLibrary();
  if (!lib) return undefined;
  try {
    const packetize = lib.func('int vk_avmm_packetize(const uint8_t *trans, int trans_len, _Out_ uint8_t *phy, int cap, int word_len)') as (t: Uint8Array, n: number, p: Uint8Array, cap: number, w: number) => number;
    const depacketize = lib.func('int vk_avmm_depacketize(const uint8_t *phy, int len, _Inout_ int32_t *state, _Out_ uint8_t *out, int cap, _Out_ int32_t *consumed)') as (p: Uint8Array, n: number, s: Int32Array, o: Uint8Array, cap: number, c: Int32Array) => number;
    const transact = lib.func('int vk_avmm_transact(void *base, size_t feat_off, int cs, const uint8_t *phy, int phy_len, _Out_ uint8_t *out, int cap, int max_idle_words, _Inout_ uint64_t *counters)') as NativeTransact;
    return {
      codec: {
        native: true,
        packetize: (trans, transLen, phy, wordLen) => packetize(trans, transLen, phy, phy.length, wordLen),
        depacketize: (phy, len, state, out, consumed) => depacketize(phy, len, state, out, out.length, consumed),
      },
      transact,
    };
  } catch (err) {
    once(log, 'avmm-shim', `shim lacks the SPI-AVMM loops (${(err as Error).message}); using the JS codec. Rebuild with node scripts/build-shim.mjs`);
    return undefined;
  }
}

function nativeParts(): { codec: AvalonCodec; transact: NativeTransact } | undefined {
  if (native === null) native = loadNative();
  return native;
}

let override: AvalonCodec | undefined;

/** The codec for per-word loops in JS (the JS one unless a test or benchmark forces another). */
export function avalonCodec(): AvalonCodec {
  return override ?? jsCodec;
}

/** The shim's codec, or undefined (not built / VFIOKIT_NO_SHIM=1). */
export function nativeCodec(): AvalonCodec | undefined {
  return nativeParts()?.codec;
}

/** The shim's whole-transaction loop for mapped regions, or undefined. */
export function nativeTransact(): NativeTransact | undefined {
  return override ? undefined : nativeParts()?.transact;
}

/** Force a codec (benchmarks and tests compare both); undefined restores the default. */
export function setAvalonCodec(codec: AvalonCodec | undefined): void {
  override = codec;
}
