// Fuzzing the TPM library: real responses recorded from swtpm (with a seeded random
// source, so sessions replay identically) and event logs built from the spec layout are
// mutated and fed back. The only acceptable outcomes are a result or a TpmError.
import { readFileSync } from "node:fs";
import { openTpm, TpmError, type Tpm } from "../../tpm/index.ts";
import { parseEventLog } from "../../tpm/eventlog/parse.ts";
import { explain, replay } from "../../tpm/eventlog/replay.ts";
import type { Transport } from "../../tpm/transport/transport.ts";
import { startSwtpm } from "../support/swtpm.ts";
import { FIRMWARE_EVENTS, buildAgileLog, buildSha1Log } from "./eventlog-builder.ts";

/** xorshift32: reproducible randomness for nonces, salts and mutations. */
export function prng(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = s & 255;
    }
    return out;
  };
}

type Op = (tpm: Tpm) => Promise<unknown>;

export interface Scenario {
  name: string;
  op: Op;
  responses: Uint8Array[];
  /** Relative frequency: the crypto-heavy ones (salted sessions) run less often. */
  weight: number;
}

const NONCE_SEED = 0x5eed;

export class RecordTransport implements Transport {
  readonly resourceManaged = false;
  responses: Uint8Array[] = [];
  constructor(private readonly inner: Transport) {}
  async send(c: Uint8Array): Promise<Uint8Array> {
    const r = await this.inner.send(c);
    this.responses.push(r);
    return r;
  }
  close(): void {
    this.inner.close?.();
  }
}

export class ReplayTransport implements Transport {
  readonly resourceManaged = false;
  private i = 0;
  constructor(private readonly responses: Uint8Array[]) {}
  async send(): Promise<Uint8Array> {
    const r = this.responses[this.i++];
    // Past the script (a mutation changed the control flow): the TPM is in failure mode.
    return r ?? Uint8Array.of(0x80, 0x01, 0, 0, 0, 10, 0, 0, 1, 1);
  }
}

const TOTP = { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] };

const OPS_20: [string, Op, number][] = [
  ["open", async () => undefined, 4],
  ["info", (t) => t.info(), 4],
  ["pcrread", (t) => t.pcrRead(Array.from({ length: 24 }, (_, i) => i)), 4],
  ["extend", (t) => t.extend(16, "fuzz"), 4],
  ["counter read", (t) => t.counterRead(0x01000001), 4],
  ["nv read", (t) => t.nvRead(0x01000002), 4],
  ["unseal", (t) => t.unseal(TOTP), 1],
  ["unseal with passphrase", (t) => t.unseal({ handle: 3, pcrs: [0], passphrase: "pw" }), 1],
];

const OPS_12: [string, Op, number][] = [
  ["1.2 open", async () => undefined, 2],
  ["1.2 info", (t) => t.info(), 2],
  ["1.2 pcrread", (t) => t.pcrRead([0, 1, 2, 3, 4, 5, 6, 7]), 2],
  ["1.2 extend", (t) => t.extend(16, "fuzz"), 2],
];

/** Start swtpm (2.0 and 1.2), set up what the scenarios need, and record their responses. */
export async function recordScenarios(): Promise<Scenario[]> {
  const out: Scenario[] = [];
  const sw = await startSwtpm("2.0");
  try {
    const setup = await openTpm(sw.transport());
    await setup.reset({ ownerPassphrase: "o", primaryKeyType: "rsa" }); // RSA-OAEP salting costs far less CPU than ECDH per replay
    await setup.seal(new Uint8Array(20).fill(7), { ...TOTP, ownerPassphrase: "o" });
    await setup.seal(new Uint8Array(32).fill(9), { handle: 3, pcrs: [0], passphrase: "pw", ownerPassphrase: "o" });
    await setup.nvDefine(0x01000002, 40, { ownerPassphrase: "o" });
    await setup.nvWrite(0x01000002, new Uint8Array(40).fill(1));
    const c = await setup.counterCreate({ ownerPassphrase: "o" });
    await setup.counterIncrement(c);
    setup.close();
    for (const [name, op, weight] of OPS_20) {
      const t = new RecordTransport(sw.transport());
      const tpm = await openTpm(t, { random: prng(NONCE_SEED) });
      await op(name === "counter read" ? withCounter(tpm, c) : tpm);
      tpm.close();
      out.push({ name, op: name === "counter read" ? (x) => x.counterRead(c) : op, responses: t.responses, weight });
    }
    const end = await openTpm(sw.transport());
    await end.shutdown();
    end.close();
  } finally {
    await sw.stop();
  }
  const sw1 = await startSwtpm("1.2");
  try {
    const first = await openTpm(sw1.transport()); // TPM_Startup once, so every scenario starts alike
    first.close();
    for (const [name, op, weight] of OPS_12) {
      const t = new RecordTransport(sw1.transport());
      const tpm = await openTpm(t);
      await op(tpm);
      tpm.close();
      out.push({ name, op, responses: t.responses, weight });
    }
  } finally {
    await sw1.stop();
  }
  return out;
}

function withCounter(tpm: Tpm, id: number): Tpm {
  return { ...tpm, counterRead: () => tpm.counterRead(id) } as Tpm;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function mutate(input: Uint8Array, rnd: (n: number) => Uint8Array): Uint8Array {
  const r = () => {
    const b = rnd(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  };
  let b: Uint8Array = input.slice();
  const kind = r() % 8;
  const at = b.length ? r() % b.length : 0;
  switch (kind) {
    case 0:
      for (let i = 1 + (r() % 4); i > 0 && b.length; i--) b[r() % b.length]! ^= 1 << (r() % 8);
      break;
    case 1:
      if (b.length) b[at] = [0, 0xff, 0x7f, 0x80, r() & 255][r() % 5]!;
      break;
    case 2:
      b = b.slice(0, at);
      break;
    case 3:
      b = join(b, rnd(1 + (r() % 64)));
      break;
    case 4: {
      // a 16- or 32-bit length field gets an extreme value
      if (b.length > 2) {
        const v = [0, 1, 0xff, 0xffff, r() & 0xffff][r() % 5]!;
        b[at] = v >> 8;
        if (at + 1 < b.length) b[at + 1] = v & 255;
      }
      break;
    }
    case 5:
      if (b.length) b.fill(0, at, Math.min(b.length, at + 1 + (r() % 16)));
      break;
    case 6: {
      const len = 1 + (r() % 16);
      b = join(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
      break;
    }
    default:
      if (b.length) b[at] = r() & 255;
  }
  // Half the time keep the header's size field consistent, so the parser gets past it.
  if (b.length >= 6 && r() % 2) {
    const n = b.length;
    b[2] = n >>> 24;
    b[3] = (n >>> 16) & 255;
    b[4] = (n >>> 8) & 255;
    b[5] = n & 255;
  }
  return b;
}

/** Replay a scenario unmutated: it must succeed, or the recording is not deterministic. */
export async function replayClean(s: Scenario): Promise<void> {
  const tpm = await openTpm(new ReplayTransport(s.responses), { random: prng(NONCE_SEED) });
  await s.op(tpm);
}

export interface FuzzStats {
  runs: number;
  ok: number;
  typed: Record<string, number>;
}

/** Feed `runs` mutated responses; throws on the first non-TpmError with the input that caused it. */
export async function fuzzResponses(scenarios: Scenario[], runs: number, seed: number): Promise<FuzzStats> {
  const rnd = prng(seed);
  const pool = scenarios.flatMap((s) => Array<Scenario>(s.weight).fill(s));
  const stats: FuzzStats = { runs: 0, ok: 0, typed: {} };
  for (let i = 0; i < runs; i++) {
    const s = pool[rnd(1)[0]! % pool.length]!;
    const which = rnd(1)[0]! % s.responses.length;
    const responses = s.responses.slice();
    responses[which] = mutate(responses[which]!, rnd);
    try {
      const tpm = await openTpm(new ReplayTransport(responses), { random: prng(NONCE_SEED) });
      await s.op(tpm);
      stats.ok++;
    } catch (e) {
      if (!(e instanceof TpmError)) {
        const hex = Buffer.from(responses[which]!).toString("hex");
        throw new Error(`scenario "${s.name}" response ${which} (${hex}) raised ${(e as Error)?.name}: ${(e as Error)?.message}`);
      }
      stats.typed[e.name] = (stats.typed[e.name] ?? 0) + 1;
    }
    stats.runs++;
  }
  return stats;
}

export function eventLogSeeds(): Uint8Array[] {
  const fixtures = new URL("./fixtures/", import.meta.url).pathname;
  return [
    new Uint8Array(readFileSync(fixtures + "seabios-tpm2.bin")),
    new Uint8Array(readFileSync(fixtures + "seabios-tpm12.bin")),
    buildAgileLog(FIRMWARE_EVENTS),
    buildAgileLog(FIRMWARE_EVENTS.slice(0, 4), { startupLocality: 3, padding: 64 }),
    buildSha1Log(FIRMWARE_EVENTS),
  ];
}

export function fuzzEventLogs(runs: number, seed: number): FuzzStats {
  const rnd = prng(seed);
  const seeds = eventLogSeeds();
  const live = new Map(Array.from({ length: 8 }, (_, i) => [i, new Uint8Array(32)] as [number, Uint8Array]));
  const stats: FuzzStats = { runs: 0, ok: 0, typed: {} };
  for (let i = 0; i < runs; i++) {
    let input = seeds[rnd(1)[0]! % seeds.length]!;
    for (let k = 1 + (rnd(1)[0]! % 3); k > 0; k--) input = mutate(input, rnd);
    try {
      const log = parseEventLog(input);
      // Replay is hashing-bound and sees only what the parser accepted: sample it.
      if (i % 8 === 0) {
        replay(log, "sha1");
        explain(log, live, "sha256");
      }
      stats.ok++;
    } catch (e) {
      if (!(e instanceof TpmError)) throw new Error(`event log ${Buffer.from(input).toString("hex")} raised ${(e as Error)?.name}: ${(e as Error)?.message}`);
      stats.typed[e.name] = (stats.typed[e.name] ?? 0) + 1;
    }
    stats.runs++;
  }
  return stats;
}
