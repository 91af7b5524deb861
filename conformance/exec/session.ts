// The exec adapter: a SchedulerImplementation backed by a separate program that
// speaks the line protocol of spec/protocol.md. The harness stays synchronous:
// a worker thread (worker.ts) owns the child process, and every request blocks
// the main thread with Atomics.wait until the worker posts the reply.
import { receiveMessageOnPort, MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { SchedulerFactory, SchedulerImplementation } from '../../spec/api.js';
import {
  ErrorResponse, HelloResponse, PROTOCOL_VERSION, ResetResponse, SnapshotResponse, StepResponse,
  type Capabilities,
} from '../../spec/protocol.js';
import type { AbstractState, Config, Step, StepResult } from '../../spec/schema.js';
import { ImplementationFailure } from '../adapters/guard.js';
import { excerpt, type Envelope, type TransportFailure, type WorkerCommand, type WorkerReply } from './transport.js';

export interface ExecOptions {
  /** Time allowed for each response, in milliseconds (--step-timeout). */
  readonly stepTimeoutMs: number;
}

/** Time the worker gets beyond a request's own timeout before the harness calls it stuck. */
const WORKER_SLACK_MS = 60_000;

/**
 * Minimum time allowed for the hello response, in milliseconds. Starting a
 * runtime (a JIT, tsx) can take longer than any step should.
 */
const HELLO_TIMEOUT_MS = 10_000;

/** Time a program gets to exit after the quit request before its group is killed. */
const QUIT_GRACE_MS = 500;

const checkers = {
  hello: TypeCompiler.Compile(HelloResponse),
  reset: TypeCompiler.Compile(ResetResponse),
  step: TypeCompiler.Compile(StepResponse),
  snapshot: TypeCompiler.Compile(SnapshotResponse),
  error: TypeCompiler.Compile(ErrorResponse),
};

function firstSchemaError(checker: TypeCheck<TSchema>, value: unknown): string {
  const e = checker.Errors(value).First();
  return e === undefined ? 'does not match the schema' : `${e.path === '' ? '(root)' : e.path}: ${e.message}`;
}

/** Whether `config` is inside what the program claims; returns the reason when not. */
export function unsupportedConfig(caps: Capabilities, config: Config): string | null {
  if (!caps.cpus.includes(config.ncpus)) return `${config.ncpus} cpus (it supports ${caps.cpus.join(', ') || 'none'})`;
  if (!caps.smp.includes(config.smp)) return `smp ${config.smp} (it supports ${caps.smp.join(', ') || 'none'})`;
  if (!caps.invariants.includes(config.invariants)) return `invariants ${config.invariants} (it supports ${caps.invariants.join(', ') || 'none'})`;
  return null;
}

/** Synchronous calls into the worker thread that owns the child process. */
class WorkerLink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private seq = 0;

  constructor() {
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.worker = new Worker(new URL('./worker.mjs', import.meta.url), {
      workerData: { port: channel.port2, flag: this.flag },
      transferList: [channel.port2],
      stderr: false,
    });
    this.worker.unref();
  }

  /** Sends `command` and blocks until the worker replies, at most `timeoutMs` plus WORKER_SLACK_MS. */
  call(command: WorkerCommand, timeoutMs = 0): WorkerReply {
    const seq = ++this.seq;
    const deadline = Date.now() + timeoutMs + WORKER_SLACK_MS;
    this.worker.postMessage({ seq, body: command } satisfies Envelope<WorkerCommand>);
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      if (seen === seq) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`exec worker did not reply to ${command.kind} within ${(timeoutMs + WORKER_SLACK_MS) / 1000} s`);
      Atomics.wait(this.flag, 0, seen, left);
    }
    const received = receiveMessageOnPort(this.port) as { message: Envelope<WorkerReply> } | undefined;
    if (received === undefined || received.message.seq !== seq) throw new Error(`exec worker reply ${seq} is missing`);
    return received.message.body;
  }

  terminate(): void {
    void this.worker.terminate();
    this.port.close();
  }
}

/** The program's identity as stated by hello. */
export interface ExecHello {
  readonly name: string;
  readonly protocol: number;
  readonly capabilities: Capabilities;
}

/**
 * One program under test, restarted as needed. `factory` resets it for each
 * run. A run that leaves the process dead, hung or out of step with the
 * protocol makes the next run start a fresh process. A failure to start or
 * to complete hello is kept, so later runs fail at once without a respawn.
 */
export class ExecSession {
  private readonly link = new WorkerLink();
  private hello: ExecHello | null = null;
  private startFailure: string | null = null;
  private failureStderr: { text: string; bytes: number } | null = null;
  private pid: number | null = null;
  private nextId = 1;
  private generation = 0;
  private closed = false;
  /** Requests that timed out in this session. */
  timeouts = 0;
  /** Processes started in this session. */
  starts = 0;

  private readonly killOnExit = (): void => this.killGroup();

  constructor(readonly argv: readonly string[], readonly options: ExecOptions) {
    if (argv.length === 0) throw new Error('ExecSession needs a program');
    process.once('exit', this.killOnExit);
  }

  /** The command line, as the user would type it. */
  get commandLine(): string {
    return this.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
  }

  /** Starts the program if no process is running and completes hello. Returns the failure, or null. */
  start(): string | null {
    if (this.startFailure !== null) return this.startFailure;
    if (this.pid !== null) return null;
    const reply = this.link.call({ kind: 'spawn', argv: this.argv });
    if (reply.kind === 'failed') return (this.startFailure = `the program ${reply.failure.message}`);
    if (reply.kind !== 'spawned') throw new Error(`exec worker replied ${reply.kind} to spawn`);
    this.pid = reply.pid;
    this.nextId = 1;
    this.starts++;
    try {
      this.hello = this.sayHello();
    } catch (err) {
      if (!(err instanceof ImplementationFailure)) throw err;
      this.startFailure = `hello: ${err.message}`;
      this.stop();
      return this.startFailure;
    }
    return null;
  }

  /** Capabilities stated by hello, or null before a successful hello. */
  capabilities(): Capabilities | null {
    return this.hello?.capabilities ?? null;
  }

  /** Name, protocol version and capabilities stated by hello, or null before a successful hello. */
  identity(): ExecHello | null {
    return this.hello;
  }

  /** Standard error of the first process that broke the protocol (died, hung or wrote a bad line), or null. */
  firstFailureStderr(): { text: string; bytes: number } | null {
    return this.failureStderr;
  }

  /** Keeps the standard error of the first process that broke the protocol, before a respawn replaces it. */
  private noteProtocolFailure(): void {
    this.failureStderr ??= this.stderr();
  }

  /** Captured standard error of the current or last process: its last 64 KiB and the count of all bytes. */
  stderr(): { text: string; bytes: number } {
    const reply = this.link.call({ kind: 'stderr' });
    if (reply.kind !== 'stderr') throw new Error(`exec worker replied ${reply.kind} to stderr`);
    return { text: reply.text, bytes: reply.bytes };
  }

  /** Ends the current process (quit, then SIGKILL to its group), so that the next run starts a fresh one. */
  stop(): void {
    if (this.pid === null) return;
    const quit = JSON.stringify({ id: this.nextId++, op: 'quit' });
    this.link.call({ kind: 'stop', line: quit, graceMs: QUIT_GRACE_MS }, QUIT_GRACE_MS + 2000);
    this.pid = null;
  }

  /** Stops the process and the worker. The session cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    this.link.terminate();
    process.removeListener('exit', this.killOnExit);
  }

  /** Resets the program for a new run; boots a fresh process first when none is running. */
  readonly factory: SchedulerFactory = (config) => {
    const failure = this.start();
    if (failure !== null) throw new ImplementationFailure(failure);
    const caps = this.hello!.capabilities;
    const outside = unsupportedConfig(caps, config);
    if (outside !== null) throw new ImplementationFailure(`the program does not support ${outside}`);
    this.request('reset', { config }, checkers.reset);
    return new ExecImplementation(this, ++this.generation, config, caps, this.hello!.name);
  };

  /** Sends one request and returns the validated response; a protocol failure throws ImplementationFailure. */
  request<T>(op: string, body: Record<string, unknown>, checker: TypeCheck<TSchema>): T {
    if (this.pid === null) throw new ImplementationFailure(`${op}: the program is not running`);
    const id = this.nextId++;
    const line = JSON.stringify({ id, op, ...body });
    const timeoutMs = op === 'hello' ? Math.max(HELLO_TIMEOUT_MS, this.options.stepTimeoutMs) : this.options.stepTimeoutMs;
    const reply = this.link.call({ kind: 'request', line, timeoutMs }, timeoutMs);
    if (reply.kind === 'failed') {
      this.pid = null;
      this.noteProtocolFailure();
      if (reply.failure.kind === 'timeout') this.timeouts++;
      throw new ImplementationFailure(describeFailure(reply.failure, line));
    }
    if (reply.kind !== 'line') throw new Error(`exec worker replied ${reply.kind} to a request`);
    return this.accept<T>(reply.line, id, line, checker);
  }

  /** Checks a response line against the protocol; anything but a well-formed error response ends the process. */
  private accept<T>(text: string, id: number, request: string, checker: TypeCheck<TSchema>): T {
    const broken = (what: string): ImplementationFailure => {
      this.stop();
      this.noteProtocolFailure();
      return new ImplementationFailure(`${what} in response to ${excerpt(request)}; output: ${excerpt(text)}`);
    };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw broken(`the program wrote a line that is not JSON (${(err as Error).message})`);
    }
    const responseId = (value as { id?: unknown } | null)?.id;
    if (checkers.error.Check(value) && (responseId === id || responseId === null)) {
      // The process is still in step with the protocol, so it is kept for the next run.
      throw new ImplementationFailure(`the program returned error ${value.error.code} (${value.error.message}) in response to ${excerpt(request)}`);
    }
    if (responseId !== id) throw broken(`the program responded with id ${JSON.stringify(responseId) ?? 'absent'} instead of ${id}`);
    if (!checker.Check(value)) throw broken(`the program wrote a response that does not match the protocol schema (${firstSchemaError(checker, value)})`);
    return value as T;
  }

  private sayHello(): ExecHello {
    const response = this.request<HelloResponse>('hello', { protocol: PROTOCOL_VERSION }, checkers.hello);
    if (response.protocol !== PROTOCOL_VERSION) {
      throw new ImplementationFailure(`the program speaks protocol version ${response.protocol}, but the harness speaks version ${PROTOCOL_VERSION}`);
    }
    return { name: response.name, protocol: response.protocol, capabilities: response.capabilities };
  }

  /** Tests whether `generation` is the current run and its process is running. Run objects of older generations may not send requests. */
  isCurrent(generation: number): boolean {
    return generation === this.generation && this.pid !== null;
  }

  private killGroup(): void {
    if (this.pid === null) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}

function describeFailure(failure: TransportFailure, request: string): string {
  const output = failure.output === null ? '' : `; output: ${excerpt(failure.output)}`;
  return `the program ${failure.message} (request ${excerpt(request)})${output}`;
}

/** One run of the program, from its reset on. */
export class ExecImplementation implements SchedulerImplementation {
  readonly snapshot?: () => AbstractState;
  private lastRunning: number[];
  /** The boot state fetched by the constructor, returned by the first snapshot() before any step. */
  private bootState: AbstractState | null = null;

  constructor(
    private readonly session: ExecSession, private readonly generation: number,
    config: Config, private readonly caps: Capabilities, readonly name: string,
  ) {
    // The protocol returns running threads only with steps. At boot cpu c runs its idle thread, thread c (spec/semantics.md 1.1).
    // NOTE: without snapshots the boot value of running() is therefore not the program's own statement.
    this.lastRunning = Array.from({ length: config.ncpus }, (_, c) => c);
    if (caps.snapshot) {
      this.snapshot = () => this.takeBootState() ?? this.request<SnapshotResponse>('snapshot', {}, checkers.snapshot).state;
      this.bootState = this.request<SnapshotResponse>('snapshot', {}, checkers.snapshot).state;
      this.lastRunning = this.bootState.cpus.map((c) => c.gd_curthread);
    }
  }

  /** Capabilities stated by the program's hello: claimed profiles, cpu counts, smp and invariants values. */
  capabilities(): Capabilities {
    return this.caps;
  }

  step(step: Step): StepResult {
    this.bootState = null;
    const response = this.request<StepResponse>('step', { step }, checkers.step);
    this.lastRunning = response.running;
    return response.result;
  }

  running(): number[] {
    return [...this.lastRunning];
  }

  private takeBootState(): AbstractState | null {
    const state = this.bootState;
    this.bootState = null;
    return state;
  }

  private request<T>(op: string, body: Record<string, unknown>, checker: TypeCheck<TSchema>): T {
    if (!this.session.isCurrent(this.generation)) throw new ImplementationFailure(`${op}: this run has ended, so its process no longer takes requests`);
    return this.session.request<T>(op, body, checker);
  }
}
