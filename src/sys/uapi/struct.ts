// The struct-table machinery: a C struct written once as an ordered list of typed fields, from
// which its layout (offsets, size, alignment by the C rules of x86-64 and aarch64, or packed)
// and its little-endian codec (encode, decode, get, put) are derived; constants and flag sets
// written once under their C names. The tables themselves are linux-vfio.ts and vfio-user.ts;
// test/sys/uapi-golden.test.ts compares every size, offset and value against the C headers
// (rust-vmm vfio-bindings' layout tests do the same for Rust; libvfio-user keeps one header).
import { getLe32, getLe64, putLe32, putLe64 } from '../../util/bytes.js';

/** A field's C type: its size and alignment, how to read (as T) and write (from In) it, and its C member name. */
export interface FieldType<T, In = T> {
  readonly size: number;
  readonly align: number;
  /** The C member name when the table names the field otherwise (vfio_user_header.msg_id as `id`). */
  readonly cName?: string;
  get(b: Uint8Array, at: number): T;
  put(b: Uint8Array, at: number, v: In): void;
  /** The same as straight-line JS, for the compiled codec (scalars). */
  readonly inline?: Inline;
}

/** Straight-line JS for a scalar: an expression reading at `o` of `b`, statements writing `x` there. */
export interface Inline { readonly get: (o: string) => string; readonly put: (o: string) => string }
/** Little-endian byte stores of the low `n` bytes of the int `x` at `o` (negative ints store two's complement). */
const storeLe = (n: number) => (o: string): string => Array.from({ length: n }, (_, i) => `b[${o} + ${i}] = (x >>> ${8 * i}) & 0xff;`).join(' ');
const loadLe = (n: number) => (o: string): string => Array.from({ length: n }, (_, i) => `(b[${o} + ${i}] << ${8 * i})`).join(' | ');

function scalar<T>(size: number, inline: Inline): FieldType<T> {
  const get = new Function('b', 'o', `"use strict"; return ${inline.get('o')};`) as FieldType<T>['get'];
  const put = new Function('b', 'o', 'x', `"use strict"; ${inline.put('o')}`) as FieldType<T>['put'];
  return { size, align: size, get, put, inline };
}
export const u8 = scalar<number>(1, { get: (o) => `b[${o}]`, put: (o) => `b[${o}] = x;` });
export const u16 = scalar<number>(2, { get: loadLe(2), put: storeLe(2) });
export const u32 = scalar<number>(4, { get: (o) => `(${loadLe(4)(o)}) >>> 0`, put: storeLe(4) });
/** __s32 (an fd, where -1 means none). */
export const s32 = scalar<number>(4, { get: loadLe(4), put: storeLe(4) });
/**
 * __u64: read as a bigint; written from a bigint or from a safe-integer number without making a
 * bigint (a REGION_READ/WRITE offset per register access: BigInt() and its shifts cost ~10x the
 * rest of the request).
 */
export const u64: FieldType<bigint, bigint | number> = {
  size: 8,
  align: 8,
  get: getLe64,
  put: (b, at, v) => {
    if (typeof v === 'bigint') return putLe64(b, at, v);
    putLe32(b, at, v >>> 0);
    putLe32(b, at + 4, Math.floor(v / 2 ** 32) >>> 0);
  },
  inline: {
    get: (o) => `T.getLe64(b, ${o})`,
    put: (o) => `if (typeof x === 'bigint') T.putLe64(b, ${o}, x); else { ${storeLe(4)(o)} x = Math.floor(x / 4294967296); ${storeLe(4)(`${o} + 4`)} }`,
  },
};

/** The same type under another C member name. */
export function cNamed<T, In>(type: FieldType<T, In>, cName: string): FieldType<T, In> {
  return { ...type, cName };
}

/** char data[n]: a fixed byte array (decoded as a view into the buffer). */
export function bytes(n: number): FieldType<Uint8Array> {
  return { size: n, align: 1, get: (b, at) => b.subarray(at, at + n), put: (b, at, v) => b.set(v.subarray(0, n), at) };
}

/** A flexible array member (`data[]`): no size of its own, only an offset and an alignment. */
export interface Flex { readonly flex: true; readonly size: 0; readonly align: number; readonly element: number; readonly cName?: string }
export function flex(element: { size: number; align: number }): Flex {
  return { flex: true, size: 0, align: element.align, element: element.size };
}

/** A flag value that belongs to one flag set, so a flag of one ioctl cannot be passed to another. */
export type Flag<Set extends string> = number & { readonly __flagSet: Set };
/** The flag type of a flag set (FlagOf<typeof MapDmaFlags>). */
export type FlagOf<S> = S extends { readonly [k: string]: infer F } ? F : never;

/** A u32 field holding flags of `set`. */
export function flagsField<F extends number>(_set: { readonly [k: string]: F }): FieldType<F> {
  return u32 as unknown as FieldType<F>;
}

/** OR flags of one set together; `false` and 0 entries add nothing (`flagSet(a && X.READ, X.WRITE)`). */
export function flagSet<F extends Flag<string>>(...values: (F | false | 0)[]): F {
  let v = 0;
  for (const f of values) v |= f || 0;
  return v as F;
}

export type Fields = Record<string, FieldType<unknown, never> | Flex>;
type ValueOf<T> = T extends FieldType<infer V, infer _In> ? V : never;
type InputOf<T> = T extends FieldType<infer _V, infer In> ? In : never;
export type Scalars<F extends Fields> = { [K in keyof F as F[K] extends Flex ? never : K]: ValueOf<F[K]> };
/** What encode() and write() take: each field's input type (a u64 takes a bigint or a number). */
export type Inputs<F extends Fields> = { [K in keyof F as F[K] extends Flex ? never : K]?: InputOf<F[K]> };
/** The decoded struct: one property per field (flexible arrays are read with `Struct.array`). */
export type Decoded<S> = S extends Struct<infer F> ? Scalars<F> : never;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** A C struct: layout derived from its fields; a codec over little-endian bytes. */
export class Struct<F extends Fields> {
  readonly size: number;
  readonly align: number;
  /** Byte offset of every field. */
  readonly offsets: { readonly [K in keyof F]: number };
  /** The member (argsz, size) that encode() sets to the buffer's length. */
  readonly selfSize: (keyof F & string) | undefined;
  /** write() and decode() compiled for this struct (see #compile). */
  readonly #write: (b: Uint8Array, at: number, values: Inputs<F>) => void;
  readonly #decode: (b: Uint8Array, at: number) => Scalars<F>;

  constructor(readonly name: string, readonly header: string, readonly fields: F, options: { packed?: boolean; selfSize?: keyof F & string } = {}) {
    const offsets: Record<string, number> = {};
    const scalars: [string, number, FieldType<unknown, never>][] = [];
    let at = 0;
    let align = 1;
    for (const [key, type] of Object.entries(fields)) {
      const a = options.packed ? 1 : type.align;
      at = alignUp(at, a);
      offsets[key] = at;
      align = Math.max(align, a);
      if ('flex' in type) continue;
      scalars.push([key, at, type]);
      at += type.size;
    }
    this.size = alignUp(at, align);
    this.align = align;
    this.offsets = offsets as { [K in keyof F]: number };
    this.selfSize = options.selfSize;
    [this.#write, this.#decode] = Struct.#compile(scalars);
  }

  /**
   * The codec as straight-line code, one call site and one property per field (a generic loop
   * over the fields costs ~25x more: megamorphic calls and keyed lookups on every access, and
   * REGION_READ/WRITE requests are built per register access). Keys are the table's own field
   * names (checked identifiers); no outside text reaches the generated source.
   */
  static #compile<F extends Fields>(scalars: [string, number, FieldType<unknown, never>][]): [Struct<F>['write'], Struct<F>['decode']] {
    for (const [key] of scalars) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`struct field name ${key} is not an identifier`);
    const types = Object.assign(scalars.map(([, , t]) => t), { getLe64, putLe64 });
    const write = scalars.map(([key, off, t], i) => `x = v.${key}; if (x !== undefined) { const o = at + ${off}; ${t.inline?.put('o') ?? `T[${i}].put(b, o, x);`} }`);
    const decode = scalars.map(([key, off, t], i) => `${key}: ${t.inline?.get(`at + ${off}`) ?? `T[${i}].get(b, at + ${off})`},`);
    const make = (body: string) => new Function('T', `"use strict"; return ${body};`)(types) as never;
    return [make(`function write(b, at, v) { let x; ${write.join(' ')} }`), make(`function decode(b, at) { return { ${decode.join(' ')} }; }`)];
  }

  /** The C member name of every field (for the golden probe). */
  cFields(): [string, number][] {
    return Object.entries(this.fields).map(([key, t]) => [t.cName ?? key, this.offsets[key]!]);
  }

  /** A zeroed buffer of `total` bytes (at least the struct) with `values` written; selfSize set to `total`. */
  encode(values: Inputs<F> = {}, total = this.size): Uint8Array {
    const b = new Uint8Array(Math.max(total, this.size));
    if (this.selfSize) putLe32(b, this.offsets[this.selfSize], b.length);
    this.write(b, 0, values);
    return b;
  }

  /** Write the given fields of a struct at `at` of `b` (others untouched). */
  write(b: Uint8Array, at: number, values: Inputs<F>): void {
    this.#write(b, at, values);
  }

  /** Read every field of the struct at `at` (the caller checked `at + size <= b.length`). */
  decode(b: Uint8Array, at = 0): Scalars<F> {
    return this.#decode(b, at);
  }

  get<K extends keyof Scalars<F> & keyof F>(b: Uint8Array, key: K, at = 0): Scalars<F>[K] {
    return (this.fields[key] as FieldType<Scalars<F>[K]>).get(b, at + this.offsets[key]);
  }

  put<K extends keyof Scalars<F> & keyof F>(b: Uint8Array, key: K, v: Scalars<F>[K], at = 0): void {
    (this.fields[key] as FieldType<Scalars<F>[K]>).put(b, at + this.offsets[key], v);
  }

  /** `count` consecutive structs from `at`, clipped to what `b` holds. */
  array(b: Uint8Array, at: number, count: number): Scalars<F>[] {
    const out: Scalars<F>[] = [];
    for (let i = 0; i < count && at + (i + 1) * this.size <= b.length; i++) out.push(this.decode(b, at + i * this.size));
    return out;
  }
}

/** A nested struct member (vfio_info_cap_header inside each capability). */
export function nested<F extends Fields>(s: Struct<F>): FieldType<Scalars<F>> {
  return { size: s.size, align: s.align, get: (b, at) => s.decode(b, at), put: (b, at, v) => s.write(b, at, v as unknown as Inputs<F>) };
}

/** One C header's table: its structs, constants and flag sets, registered for the golden test. */
export class HeaderTable {
  readonly structs: Struct<Fields>[] = [];
  readonly constants = new Map<string, number>();

  constructor(readonly header: string) {}

  struct<F extends Fields>(name: string, fields: F, options?: { packed?: boolean; selfSize?: keyof F & string }): Struct<F> {
    const s = new Struct(name, this.header, fields, options);
    this.structs.push(s as unknown as Struct<Fields>);
    return s;
  }

  /** Constants whose C names are `prefix` + key (an enum or a #define family). */
  values<const T extends Record<string, number>>(prefix: string, values: T): T {
    for (const [k, v] of Object.entries(values)) this.constants.set(prefix + k, v);
    return Object.freeze(values);
  }

  /** A flag set whose C names are `prefix` + key; its values are branded with the prefix. */
  flags<P extends string, T extends Record<string, number>>(prefix: P, values: T): { readonly [K in keyof T]: Flag<P> } {
    return this.values(prefix, values) as unknown as { readonly [K in keyof T]: Flag<P> };
  }
}
