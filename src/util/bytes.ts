// Little-endian packing of plain memory (byte arrays), with no alignment requirement.

export function getLe32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

export function putLe32(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

export function getLe64(b: Uint8Array, i: number): bigint {
  return BigInt(getLe32(b, i)) | (BigInt(getLe32(b, i + 4)) << 32n);
}

export function putLe64(b: Uint8Array, i: number, v: bigint): void {
  putLe32(b, i, Number(v & 0xffffffffn));
  putLe32(b, i + 4, Number((v >> 32n) & 0xffffffffn));
}

export const hex = (n: number | bigint, pad = 0): string => `0x${n.toString(16).padStart(pad, '0')}`;
