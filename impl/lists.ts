// Fixed-size data structures of the optimized LWKT implementation: intrusive
// thread lists kept in typed arrays, the per-pair IPI FIFOs, a per-CPU thread
// bitset and the bit search the scheduler uses. Nothing here allocates after
// construction, except when a family of lists grows to more elements.
//
// The kernel structures they stand for are those of DragonFly BSD
// sys/kern/lwkt_thread.c rev 1.71 and the headers it includes: TAILQs linked
// through td_threadq and td_allq, and struct lwkt_ipiq.
import { Arena } from './arena.js';

/** Sentinel for "no element" in every index array. */
export const NIL = -1;

/** Index of the most significant set bit of `x` as an unsigned 32-bit value; -1 for 0 (i386 bsrl). */
export function bsrl(x: number): number {
  return 31 - Math.clz32(x);
}

/** Index of the least significant set bit of `x` as an unsigned 32-bit value; -1 for 0 (i386 bsfl). */
export function bsfl(x: number): number {
  return x === 0 ? -1 : 31 - Math.clz32(x & -x);
}

/**
 * A family of doubly linked lists that share one link per element, like the
 * TAILQs linked through one `td_threadq` field. An element is on at most one
 * list of the family; `on[e]` names that list or is NIL.
 *
 * The C macros corrupt a list when an element that is already linked is
 * inserted again. The kernel state is then already broken (the structure
 * invariants of the model fail), so this class unlinks the element first and
 * stays consistent instead of building a cycle.
 */
export class IntrusiveLists {
  next: Int32Array;
  prev: Int32Array;
  on: Int32Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;

  constructor(elements: number, lists: number, arena = new Arena()) {
    this.next = arena.int32(elements, NIL);
    this.prev = arena.int32(elements, NIL);
    this.on = arena.int32(elements, NIL);
    this.head = arena.int32(lists, NIL);
    this.tail = arena.int32(lists, NIL);
  }

  /** Makes room for elements up to `elements - 1`; the new ones are on no list. */
  growElements(elements: number, arena: Arena): void {
    this.next = arena.grownInt32(this.next, elements, NIL);
    this.prev = arena.grownInt32(this.prev, elements, NIL);
    this.on = arena.grownInt32(this.on, elements, NIL);
  }

  first(list: number): number {
    return this.head[list]!;
  }

  isEmpty(list: number): boolean {
    return this.head[list] === NIL;
  }

  insertTail(list: number, e: number): void {
    if (this.on[e] !== NIL) this.remove(e);
    const t = this.tail[list]!;
    this.next[e] = NIL;
    this.prev[e] = t;
    if (t === NIL) this.head[list] = e;
    else this.next[t] = e;
    this.tail[list] = e;
    this.on[e] = list;
  }

  insertHead(list: number, e: number): void {
    if (this.on[e] !== NIL) this.remove(e);
    const h = this.head[list]!;
    this.prev[e] = NIL;
    this.next[e] = h;
    if (h === NIL) this.tail[list] = e;
    else this.prev[h] = e;
    this.head[list] = e;
    this.on[e] = list;
  }

  /** Unlinks `e` from the list it is on; does nothing when it is on none. */
  remove(e: number): void {
    const list = this.on[e]!;
    if (list === NIL) return;
    const n = this.next[e]!;
    const p = this.prev[e]!;
    if (p === NIL) this.head[list] = n;
    else this.next[p] = n;
    if (n === NIL) this.tail[list] = p;
    else this.prev[n] = p;
    this.next[e] = NIL;
    this.prev[e] = NIL;
    this.on[e] = NIL;
  }

  /** Moves `e` to the tail of the list it is on (round robin). */
  rotateToTail(e: number): void {
    const list = this.on[e]!;
    if (list === NIL || this.tail[list] === e) return;
    this.remove(e);
    this.insertTail(list, e);
  }

  /** Returns the elements of `list`, front to back. Allocates, so it is not for the hot path. */
  toArray(list: number): number[] {
    const out: number[] = [];
    for (let e = this.head[list]!; e !== NIL; e = this.next[e]!) out.push(e);
    return out;
  }
}

/**
 * The IPI FIFOs, one ring of `slots` messages per ordered CPU pair (struct
 * lwkt_ipiq). Read and write indices run freely and the slot is the index
 * modulo `slots`, as in lwkt_ipiq.c. The caller bounds the fill level; the
 * senders of lwkt_ipiq.c never queue more than 10 of the 16 slots.
 */
export class IpiRings {
  readonly func: Uint8Array;
  readonly arg: Int32Array;
  readonly rindex: Int32Array;
  readonly windex: Int32Array;
  /** Function and argument of the message removed by the last `shift`. */
  lastFunc = 0;
  lastArg = 0;

  constructor(
    readonly ncpus: number,
    readonly slots: number,
    arena = new Arena(),
  ) {
    this.func = arena.uint8(ncpus * ncpus * slots);
    this.arg = arena.int32(ncpus * ncpus * slots);
    this.rindex = arena.int32(ncpus * ncpus);
    this.windex = arena.int32(ncpus * ncpus);
  }

  count(src: number, dst: number): number {
    const q = src * this.ncpus + dst;
    return this.windex[q]! - this.rindex[q]!;
  }

  push(src: number, dst: number, func: number, arg: number): void {
    const q = src * this.ncpus + dst;
    const w = this.windex[q]!;
    if (w - this.rindex[q]! >= this.slots) throw new Error(`IPI FIFO ${src}->${dst} overflow`);
    const slot = q * this.slots + (w % this.slots);
    this.func[slot] = func;
    this.arg[slot] = arg;
    this.windex[q] = w + 1;
  }

  /** Removes the oldest message of the FIFO src->dst into lastFunc/lastArg; returns false when it is empty. */
  shift(src: number, dst: number): boolean {
    const q = src * this.ncpus + dst;
    const r = this.rindex[q]!;
    if (r === this.windex[q]) return false;
    const slot = q * this.slots + (r % this.slots);
    this.lastFunc = this.func[slot]!;
    this.lastArg = this.arg[slot]!;
    this.rindex[q] = r + 1;
    return true;
  }

  /** Returns the queued messages of src->dst, oldest first, as [func, arg] pairs. Allocates. */
  toArray(src: number, dst: number): [number, number][] {
    const q = src * this.ncpus + dst;
    const out: [number, number][] = [];
    for (let i = this.rindex[q]!; i !== this.windex[q]; i++) {
      const slot = q * this.slots + (i % this.slots);
      out.push([this.func[slot]!, this.arg[slot]!]);
    }
    return out;
  }
}

/** One set of thread ids per CPU, as bit words; the lowest member is found with bsfl. */
export class ThreadBitsets {
  readonly words: Uint32Array;
  readonly wordsPerSet: number;

  constructor(sets: number, elements: number, arena = new Arena()) {
    this.wordsPerSet = Math.ceil(elements / 32);
    this.words = arena.uint32(sets * this.wordsPerSet);
  }

  add(set: number, e: number): void {
    this.words[set * this.wordsPerSet + (e >>> 5)]! |= 1 << (e & 31);
  }

  remove(set: number, e: number): void {
    this.words[set * this.wordsPerSet + (e >>> 5)]! &= ~(1 << (e & 31));
  }

  has(set: number, e: number): boolean {
    return (this.words[set * this.wordsPerSet + (e >>> 5)]! & (1 << (e & 31))) !== 0;
  }

  /** Returns the smallest member of `set`, or NIL when it is empty. */
  lowest(set: number): number {
    const base = set * this.wordsPerSet;
    for (let i = 0; i < this.wordsPerSet; i++) {
      const w = this.words[base + i]!;
      if (w !== 0) return i * 32 + bsfl(w);
    }
    return NIL;
  }

  isEmpty(set: number): boolean {
    return this.lowest(set) === NIL;
  }

  /** Members in ascending order. Allocates. */
  toArray(set: number): number[] {
    const out: number[] = [];
    const base = set * this.wordsPerSet;
    for (let i = 0; i < this.wordsPerSet; i++) {
      let w = this.words[base + i]!;
      while (w !== 0) {
        const b = bsfl(w);
        out.push(i * 32 + b);
        w &= ~(1 << b);
      }
    }
    return out;
  }
}
