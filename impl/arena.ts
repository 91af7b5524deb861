// Typed arrays carved out of shared ArrayBuffers for the optimized LWKT
// implementation (DragonFly BSD sys/kern/lwkt_thread.c rev 1.71).
//
// A machine instance keeps some sixty small arrays. V8 gives every typed array
// of more than 64 bytes its own zeroed off-heap backing store, which costs
// 200 to 400 ns each on the benchmark machine (Node 20), while a view on an
// existing buffer costs about 25 ns. The conformance harness and the
// benchmark create one instance per run, so construction cost counts.

/**
 * Bytes per buffer. One buffer has room for every array of a 4-CPU instance
 * at its initial capacity (about 20 KB), with room left for the first growth
 * of its frame and tokref arrays.
 */
const CHUNK_BYTES = 32768;

/**
 * Hands out zeroed (or filled) typed arrays from a current buffer and starts
 * a new buffer when it is full. Arrays are never freed one by one, so an
 * abandoned array keeps its buffer alive until the instance is garbage.
 */
export class Arena {
  private buffer: ArrayBuffer;
  private offset = 0;

  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    this.buffer = new ArrayBuffer(chunkBytes);
  }

  /** Returns the byte offset of `bytes` free bytes, 8-aligned, in `this.buffer` (which may be new). */
  private reserve(bytes: number): number {
    const start = (this.offset + 7) & ~7;
    if (start + bytes <= this.buffer.byteLength) {
      this.offset = start + bytes;
      return start;
    }
    this.buffer = new ArrayBuffer(Math.max(this.chunkBytes, bytes));
    this.offset = bytes;
    return 0;
  }

  // Each method reserves before it reads `this.buffer`, because reserving may replace the buffer.

  int32(n: number, fill = 0): Int32Array {
    const start = this.reserve(n * 4);
    const a = new Int32Array(this.buffer, start, n);
    if (fill !== 0) a.fill(fill);
    return a;
  }

  uint32(n: number): Uint32Array {
    const start = this.reserve(n * 4);
    return new Uint32Array(this.buffer, start, n);
  }

  int16(n: number, fill = 0): Int16Array {
    const start = this.reserve(n * 2);
    const a = new Int16Array(this.buffer, start, n);
    if (fill !== 0) a.fill(fill);
    return a;
  }

  uint8(n: number): Uint8Array {
    const start = this.reserve(n);
    return new Uint8Array(this.buffer, start, n);
  }

  float64(n: number, fill = 0): Float64Array {
    const start = this.reserve(n * 8);
    const a = new Float64Array(this.buffer, start, n);
    if (fill !== 0) a.fill(fill);
    return a;
  }

  /** Returns a copy of `old` lengthened to `n` elements, the new ones set to `fill`. */
  grownInt32(old: Int32Array, n: number, fill = 0): Int32Array {
    const a = this.int32(n);
    a.set(old);
    if (fill !== 0) a.fill(fill, old.length);
    return a;
  }

  grownInt16(old: Int16Array, n: number, fill = 0): Int16Array {
    const a = this.int16(n);
    a.set(old);
    if (fill !== 0) a.fill(fill, old.length);
    return a;
  }

  grownUint8(old: Uint8Array, n: number): Uint8Array {
    const a = this.uint8(n);
    a.set(old);
    return a;
  }

  grownFloat64(old: Float64Array, n: number, fill = 0): Float64Array {
    const a = this.float64(n);
    a.set(old);
    if (fill !== 0) a.fill(fill, old.length);
    return a;
  }
}

/** Returns a copy of `old` lengthened to `n` elements, the new ones set to `fill`. */
export function grownArray<T>(old: T[], n: number, fill: T): T[] {
  const a = old.slice();
  for (let i = old.length; i < n; i++) a.push(fill);
  return a;
}
