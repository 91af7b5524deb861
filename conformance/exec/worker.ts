// Worker thread of the exec adapter: owns the child process that speaks the
// line protocol of spec/protocol.md, with its pipes, timers and standard error.
// The main thread sends one command at a time and blocks until the reply is
// posted on the message port and the shared flag is set to its sequence number.
import { spawn, type ChildProcess } from 'node:child_process';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PROTOCOL_LINE_MAX_BYTES } from '../../spec/protocol.js';
import {
  OUTPUT_EXCERPT_BYTES, STDERR_TAIL_BYTES,
  type Envelope, type TransportFailure, type TransportFailureKind, type WorkerCommand, type WorkerReply,
} from './transport.js';

interface WorkerInput {
  readonly port: MessagePort;
  readonly flag: Int32Array;
}

const { port, flag } = workerData as WorkerInput;

/** Time allowed for a dead child's pipes to drain before its failure is reported. */
const DRAIN_MS = 1000;

/** Time allowed after stdout ends for the exit status to arrive, to tell an exit from a closed stdout. */
const EXIT_AFTER_EOF_MS = 100;

function reply(seq: number, body: WorkerReply): void {
  const envelope: Envelope<WorkerReply> = { seq, body };
  port.postMessage(envelope);
  Atomics.store(flag, 0, seq);
  Atomics.notify(flag, 0);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The last STDERR_TAIL_BYTES bytes of a stream, and the count of all bytes seen. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private held = 0;
  total = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.held += chunk.length;
    this.total += chunk.length;
    if (this.held > 2 * STDERR_TAIL_BYTES) this.compact();
  }

  text(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.subarray(Math.max(0, all.length - STDERR_TAIL_BYTES));
    this.chunks = [kept];
    this.held = kept.length;
  }
}

/** One run of the program: its process, the line being read and the first failure. */
class Child {
  readonly stderr = new TailBuffer();
  failure: TransportFailure | null = null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  /** Set while the harness ends the process on purpose, so its exit is no failure. */
  stopping = false;

  private partial: Buffer[] = [];
  private partialBytes = 0;
  private waiter: ((reply: WorkerReply) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stdoutEnded = false;
  private readonly closed: Promise<void>;

  constructor(readonly process: ChildProcess) {
    this.closed = new Promise((resolve) => process.once('close', () => resolve()));
    process.stdout!.on('data', (chunk: Buffer) => this.read(chunk));
    process.stdout!.once('end', () => void this.stdoutEnd());
    process.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk));
    // EPIPE after the child died: the exit or end of stdout reports it.
    process.stdin!.on('error', () => {});
    process.once('exit', (code, signal) => void this.exited(code, signal));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Writes a request line and resolves with the response line or the failure. */
  request(line: string, timeoutMs: number): Promise<WorkerReply> {
    if (this.failure !== null) return Promise.resolve({ kind: 'failed', failure: this.failure });
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.timer = setTimeout(() => {
        void this.fail('timeout', `did not respond within ${timeoutMs / 1000} s, so the harness killed its process group`, null);
      }, timeoutMs);
      this.process.stdin!.write(`${line}\n`);
    });
  }

  /** Ends the process: the quit line first when given, then SIGKILL to the group after `graceMs`. */
  async stop(line: string | null, graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.exit === null && this.failure === null && line !== null) {
      this.process.stdin!.write(`${line}\n`);
      this.process.stdin!.end();
      await Promise.race([this.closed, delay(graceMs)]);
    }
    this.killGroup();
    await Promise.race([this.closed, delay(DRAIN_MS)]);
  }

  /** Kills the whole process group, so that helpers the program started die with it. */
  killGroup(): void {
    const pid = this.process.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private read(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!this.append(chunk.subarray(start, nl))) return;
      const line = Buffer.concat(this.partial).toString('utf8');
      this.partial = [];
      this.partialBytes = 0;
      this.deliver(line);
      start = nl + 1;
    }
    this.append(chunk.subarray(start));
  }

  /** Adds bytes to the current line; false once the line passes PROTOCOL_LINE_MAX_BYTES. */
  private append(bytes: Buffer): boolean {
    if (this.failure !== null) return false;
    if (this.partialBytes + bytes.length > PROTOCOL_LINE_MAX_BYTES) {
      const head = Buffer.concat([...this.partial, bytes]).subarray(0, OUTPUT_EXCERPT_BYTES).toString('utf8');
      // Stop reading at once: the rest of the line is never buffered.
      this.process.stdout!.destroy();
      void this.fail('line-too-long', `wrote a line longer than the maximum of ${PROTOCOL_LINE_MAX_BYTES} bytes`, `${head}...`);
      return false;
    }
    if (bytes.length > 0) {
      this.partial.push(bytes);
      this.partialBytes += bytes.length;
    }
    return true;
  }

  private deliver(line: string): void {
    const waiter = this.waiter;
    if (waiter === null) {
      void this.fail('unrequested-output', 'wrote a line when no request was outstanding', line.slice(0, OUTPUT_EXCERPT_BYTES));
      return;
    }
    this.settle();
    waiter({ kind: 'line', line });
  }

  private settle(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.waiter = null;
  }

  private async stdoutEnd(): Promise<void> {
    this.stdoutEnded = true;
    if (this.failure !== null || this.stopping) return;
    // An exiting program closes stdout first; give its exit status a moment to arrive.
    await Promise.race([this.closed, delay(EXIT_AFTER_EOF_MS)]);
    if (this.exit === null) await this.fail('stdout-closed', 'closed its standard output while still running', null);
  }

  private async exited(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.exit = { code, signal };
    if (this.failure !== null || this.stopping) return;
    // Output written just before the exit may still be in the pipe.
    if (!this.stdoutEnded) await Promise.race([this.closed, delay(EXIT_AFTER_EOF_MS)]);
    if (this.failure !== null || this.stopping) return;
    const how = signal !== null ? `was killed by signal ${signal}` : `exited with status ${code ?? 'unknown'}`;
    await this.fail('exit', how, null);
  }

  /** Records the first failure, kills the group, waits for stderr to drain and fails the outstanding request. */
  async fail(kind: TransportFailureKind, message: string, output: string | null): Promise<void> {
    if (this.failure !== null) return;
    this.failure = { kind, message, output };
    this.killGroup();
    await Promise.race([this.closed, delay(DRAIN_MS)]);
    const waiter = this.waiter;
    this.settle();
    waiter?.({ kind: 'failed', failure: this.failure });
  }
}

let child: Child | null = null;
/** Standard error of the last child, kept after it is stopped. */
let lastStderr = new TailBuffer();

function start(argv: readonly string[]): Promise<WorkerReply> {
  const [file, ...args] = argv;
  // detached: the child leads a new process group, which a timeout kills as a whole.
  // NOTE: so a terminal's Ctrl-C does not reach it, and a harness killed by a
  // signal leaves a program that ignores the end of its stdin running.
  const proc = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const started = new Child(proc);
  lastStderr = started.stderr;
  return new Promise((resolve) => {
    proc.once('spawn', () => {
      child = started;
      resolve({ kind: 'spawned', pid: proc.pid! });
    });
    proc.once('error', (err: NodeJS.ErrnoException) => {
      // Errors after a successful spawn (a failed kill, say) are not start failures.
      if (child === started) return;
      const failure: TransportFailure = { kind: 'spawn', message: `could not be started (${err.code ?? err.message}: ${err.message})`, output: null };
      started.failure = failure;
      resolve({ kind: 'failed', failure });
    });
  });
}

async function handle(command: WorkerCommand): Promise<WorkerReply> {
  switch (command.kind) {
    case 'spawn':
      return start(command.argv);
    case 'request':
      if (child === null) return { kind: 'failed', failure: { kind: 'exit', message: 'is not running', output: null } };
      return child.request(command.line, command.timeoutMs);
    case 'stop':
      await child?.stop(command.line, command.graceMs);
      child = null;
      return { kind: 'stopped' };
    case 'stderr':
      return { kind: 'stderr', text: lastStderr.text(), bytes: lastStderr.total };
  }
}

parentPort!.on('message', (envelope: Envelope<WorkerCommand>) => {
  void handle(envelope.body).then((body) => reply(envelope.seq, body));
});
