// The 64-bit hash SimKube's tracer keeps of each object's spec in a trace's index (docs/import.md):
// Rust's `DefaultHasher` (SipHash-1-3, keys 0 and 0) fed a serde_json value the way SimKube's
// `HashableJsonValue` feeds it — null as the `None` discriminant (8 zero bytes), a boolean as one
// byte, an integer as 8 little-endian bytes (a float as its IEEE bits), a string as its UTF-8 bytes
// and 0xff, a list as its items, a map as its keys (in byte order, serde_json's BTreeMap) each
// followed by its value. No npm package offers SipHash-1-3 (those on the registry are 2-4).
const MASK = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & MASK;

/** SipHash-1-3 with both keys 0, as Rust's `std::collections::hash_map::DefaultHasher::new()`. */
export function sipHash13(bytes: Uint8Array): bigint {
  let v0 = 0x736f6d6570736575n;
  let v1 = 0x646f72616e646f6dn;
  let v2 = 0x6c7967656e657261n;
  let v3 = 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const whole = bytes.length - (bytes.length % 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < whole; i += 8) {
    const m = view.getBigUint64(i, true);
    v3 ^= m;
    round();
    v0 ^= m;
  }
  let last = BigInt(bytes.length & 0xff) << 56n;
  for (let i = whole; i < bytes.length; i++) last |= BigInt(bytes[i]!) << BigInt(8 * (i - whole));
  v3 ^= last;
  round();
  v0 ^= last;
  v2 ^= 0xffn;
  round();
  round();
  round();
  return (v0 ^ v1 ^ v2 ^ v3) & MASK;
}

const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
};

function feed(v: unknown, out: Buffer[]): void {
  if (v === null || v === undefined) out.push(u64(0n));
  else if (typeof v === 'boolean') out.push(Buffer.of(v ? 1 : 0));
  else if (typeof v === 'bigint') out.push(u64(v));
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) out.push(u64(BigInt(v)));
    else {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v);
      out.push(b);
    }
  } else if (typeof v === 'string') out.push(Buffer.from(v, 'utf8'), Buffer.of(0xff));
  else if (Array.isArray(v)) for (const x of v) feed(x, out);
  else if (typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    for (const k of keys) {
      feed(k, out);
      feed((v as Record<string, unknown>)[k], out);
    }
  }
}

/** SimKube's `jsonutils::hash_option` of a JSON value (undefined: the field is absent, hashed as null). */
export function rustJsonHash(v: unknown): bigint {
  const out: Buffer[] = [];
  feed(v, out);
  return sipHash13(new Uint8Array(Buffer.concat(out)));
}
