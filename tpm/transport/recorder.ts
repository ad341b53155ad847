// A transport wrapper for tests and the bench: logs every command by name, counts them,
// adds latency per command (real TPMs are 100-1000x slower than swtpm), and can answer
// a chosen command with a chosen response code instead of passing it on.
import { commandName } from "../tpm2/constants.ts";
import { ordinalName } from "../tpm12/constants.ts";
import type { Transport } from "./transport.ts";

export interface RecordedCommand {
  name: string;
  code: number;
  rc: number;
  ms: number;
}

export interface Injection {
  /** Command name as logged, e.g. "TPM2_Unseal". */
  command: string;
  rc: number;
  /** How many times to inject; default once. */
  times?: number;
}

export interface RecorderOptions {
  latencyMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class RecordingTransport implements Transport {
  readonly log: RecordedCommand[] = [];
  private injections: Injection[] = [];
  latencyMs: number;

  constructor(
    private readonly inner: Transport,
    private readonly options: RecorderOptions = {},
  ) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  get resourceManaged(): boolean | undefined {
    return this.inner.resourceManaged;
  }

  inject(injection: Injection): void {
    this.injections.push({ ...injection, times: injection.times ?? 1 });
  }

  reset(): void {
    this.log.length = 0;
  }

  /** Commands by name since the last reset, e.g. { TPM2_Unseal: 1 }. */
  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const e of this.log) c[e.name] = (c[e.name] ?? 0) + 1;
    return c;
  }

  names(): string[] {
    return this.log.map((e) => e.name);
  }

  async send(command: Uint8Array): Promise<Uint8Array> {
    const now = this.options.now ?? (() => Date.now());
    const start = now();
    const tag = command.length >= 2 ? (command[0]! << 8) | command[1]! : 0;
    const code = command.length >= 10 ? ((command[6]! << 24) | (command[7]! << 16) | (command[8]! << 8) | command[9]!) >>> 0 : 0;
    const name = tag === 0x8001 || tag === 0x8002 ? commandName(code) : ordinalName(code);
    if (this.latencyMs > 0) await (this.options.sleep ?? defaultSleep)(this.latencyMs);
    const inj = this.injections.find((i) => i.command === name && (i.times ?? 0) > 0);
    let response: Uint8Array;
    if (inj) {
      inj.times = (inj.times ?? 1) - 1;
      const replyTag = tag === 0x8002 || tag === 0x8001 ? 0x8001 : 0x00c4;
      response = Uint8Array.of(replyTag >> 8, replyTag & 255, 0, 0, 0, 10, inj.rc >>> 24, (inj.rc >>> 16) & 255, (inj.rc >>> 8) & 255, inj.rc & 255);
    } else {
      response = await this.inner.send(command);
    }
    const rc = response.length >= 10 ? ((response[6]! << 24) | (response[7]! << 16) | (response[8]! << 8) | response[9]!) >>> 0 : -1;
    this.log.push({ name, code, rc, ms: now() - start });
    return response;
  }

  close(): void {
    this.inner.close?.();
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
