// Messages between the main thread (session.ts), which blocks while a request
// is outstanding, and the worker thread (worker.ts), which owns the child
// process and its asynchronous I/O. Every command gets exactly one reply.

/** Most bytes of a child's standard error kept, counted from the end. */
export const STDERR_TAIL_BYTES = 64 * 1024;

/** Most bytes of an offending output line quoted in a report. */
export const OUTPUT_EXCERPT_BYTES = 1024;

export type WorkerCommand =
  /** Starts the program; the previous child, if any, must have been stopped. */
  | { readonly kind: 'spawn'; readonly argv: readonly string[] }
  /** Writes one request line and waits for one response line. */
  | { readonly kind: 'request'; readonly line: string; readonly timeoutMs: number }
  /** Writes `line` (the quit request, when given), waits up to `graceMs` for the exit, then kills the process group. */
  | { readonly kind: 'stop'; readonly line: string | null; readonly graceMs: number }
  /** Returns the captured standard error of the current or last child. */
  | { readonly kind: 'stderr' };

/** Reason the transport gave up on the current child. The child is gone afterwards, except after a `spawn` failure, where it never existed. */
export type TransportFailureKind = 'spawn' | 'exit' | 'stdout-closed' | 'timeout' | 'line-too-long' | 'unrequested-output';

export interface TransportFailure {
  readonly kind: TransportFailureKind;
  /** One line in plain words, for example `exited with status 3`. */
  readonly message: string;
  /** The offending output, cut to OUTPUT_EXCERPT_BYTES, or null. */
  readonly output: string | null;
}

export type WorkerReply =
  | { readonly kind: 'spawned'; readonly pid: number }
  | { readonly kind: 'line'; readonly line: string }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'stderr'; readonly text: string; readonly bytes: number }
  | { readonly kind: 'failed'; readonly failure: TransportFailure };

/** Envelope on the message port: `seq` pairs a reply with its command. */
export interface Envelope<T> {
  readonly seq: number;
  readonly body: T;
}

/** Cuts `text` to at most `max` bytes of UTF-8, marking the cut with the full length. */
export function excerpt(text: string, max = OUTPUT_EXCERPT_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  return `${bytes.subarray(0, max).toString('utf8')}... (${bytes.length} bytes in all)`;
}
