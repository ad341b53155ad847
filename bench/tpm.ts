// TPM operations: commands sent and wall time, with 0 and 30 ms injected per command (a
// discrete TPM is 100-1000x slower than swtpm), next to what Heads' tpm2-tools flow needs.
// `npx tsx bench/tpm.ts`
import { startSwtpm } from "../test/support/swtpm.ts";
import { startSwtpm12 } from "../test/support/swtpm12.ts";
import { openTpm, type Tpm } from "../tpm/index.ts";
import { RecordingTransport } from "../tpm/transport/recorder.ts";

const OWNER = "owner";
const TOTP = { handle: 0x4d47, pcrs: [0, 1, 2, 3, 4, 7] };
const nvIndex = 0x01500000;

/** Heads' tpmr through tpm2-tools (engine-facts.md, measured): 27 commands from 11 processes for the boot-time TOTP unseal. */
const HEADS_TOTP_UNSEAL_COMMANDS = 27;

/** Marks the row that measures openTpm itself. */
const OPEN = async () => undefined;

interface Row {
  op: string;
  commands: number;
  names: string;
  ms0: number;
  ms30: number;
}

async function measure(op: string, latency: number, port: number, prepare: (tpm: Tpm) => Promise<void>, run: (tpm: Tpm) => Promise<unknown>) {
  const { SwtpmTransport } = await import("../runtime/host/node/swtpm-transport.ts");
  const rec = new RecordingTransport(new SwtpmTransport(port));
  let tpm: Tpm;
  let t: number;
  if (run === OPEN) {
    rec.latencyMs = latency;
    t = performance.now();
    tpm = await openTpm(rec);
  } else {
    tpm = await openTpm(rec);
    await prepare(tpm);
    rec.reset();
    rec.latencyMs = latency;
    t = performance.now();
    await run(tpm);
  }
  const ms = performance.now() - t;
  const names = rec.names();
  tpm.close();
  return { op, ms, names };
}

const sw = await startSwtpm("2.0");
const rows: Row[] = [];
try {
  const setup = await openTpm(sw.transport());
  await setup.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" });
  await setup.seal(new Uint8Array(20).fill(1), { ...TOTP, ownerPassphrase: OWNER });
  await setup.seal(new Uint8Array(64).fill(2), { handle: 3, pcrs: [0, 1, 2, 3, 4, 5, 6, 7], passphrase: "disk pass", ownerPassphrase: OWNER });
  const counter = await setup.counterCreate({ ownerPassphrase: OWNER });
  await setup.counterIncrement(counter);
  await setup.nvDefine(nvIndex, 64, { ownerPassphrase: OWNER });
  setup.close();
  const none = async () => undefined;
  const ops: [string, (t: Tpm) => Promise<void>, (t: Tpm) => Promise<unknown>][] = [
    ["open (version detection, flush leftovers)", none, OPEN],
    ["pcrread 0-7", none, (t) => t.pcrRead([0, 1, 2, 3, 4, 5, 6, 7])],
    ["extend", none, (t) => t.extend(16, "bench")],
    ["TOTP unseal (fresh process, SRK persisted)", none, (t) => t.unseal(TOTP)],
    ["TOTP unseal (second in the same process)", (t) => t.unseal(TOTP).then(() => undefined), (t) => t.unseal(TOTP)],
    ["NV write 64 bytes (encrypted)", none, (t) => t.nvWrite(nvIndex, new Uint8Array(64).fill(4))],
    ["disk key unseal with passphrase", none, (t) => t.unseal({ handle: 3, pcrs: [0, 1, 2, 3, 4, 5, 6, 7], passphrase: "disk pass" })],
    ["TOTP seal (replacing the old one)", none, (t) => t.seal(new Uint8Array(20).fill(3), { ...TOTP, ownerPassphrase: OWNER })],
    ["counter read", none, (t) => t.counterRead(counter)],
    ["counter increment", none, (t) => t.counterIncrement(counter)],
  ];
  for (const [op, prepare, run] of ops) {
    const a = await measure(op, 0, sw.port, prepare, run);
    const b = await measure(op, 30, sw.port, prepare, run);
    rows.push({ op, commands: a.names.length, names: a.names.join(" "), ms0: a.ms, ms30: b.ms });
  }
  // reset last: it clears everything above
  const a = await measure("reset (clear, ECC SRK, auths, DA)", 0, sw.port, none, (t) => t.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
  const b = await measure("reset", 30, sw.port, none, (t) => t.reset({ ownerPassphrase: OWNER, primaryKeyType: "ecc" }));
  rows.push({ op: a.op, commands: a.names.length, names: a.names.join(" "), ms0: a.ms, ms30: b.ms });
  const c = await measure("reset (RSA-2048 SRK)", 0, sw.port, none, (t) => t.reset({ ownerPassphrase: OWNER, primaryKeyType: "rsa" }));
  rows.push({ op: c.op, commands: c.names.length, names: c.names.join(" "), ms0: c.ms, ms30: NaN });
  const end = await openTpm(sw.transport());
  await end.shutdown();
  end.close();
} finally {
  await sw.stop();
}

// TPM 1.2 (swtpm with its endorsement key): the same boot-time unseal, from Heads' NV index.
const sw12 = await startSwtpm12();
try {
  const setup = await openTpm(sw12.transport());
  await setup.reset({ ownerPassphrase: OWNER });
  await setup.seal(new Uint8Array(20).fill(1), { ...TOTP, ownerPassphrase: OWNER });
  setup.close();
  const op = "TOTP unseal on TPM 1.2 (fresh process)";
  const a = await measure(op, 0, sw12.port, async () => undefined, (t) => t.unseal(TOTP));
  const b = await measure(op, 30, sw12.port, async () => undefined, (t) => t.unseal(TOTP));
  rows.push({ op, commands: a.names.length, names: a.names.join(" "), ms0: a.ms, ms30: b.ms });
} finally {
  await sw12.stop();
}

console.log("operation".padEnd(46), "cmds", "   0 ms/cmd", "  30 ms/cmd");
for (const r of rows) console.log(r.op.padEnd(46), String(r.commands).padStart(4), `${r.ms0.toFixed(1).padStart(8)} ms`, Number.isNaN(r.ms30) ? "" : `${r.ms30.toFixed(0).padStart(8)} ms`);
console.log("");
for (const r of rows) console.log(`${r.op}: ${r.names || "(none)"}`);
const totp = rows.find((r) => r.op.startsWith("TOTP unseal (fresh"))!;
console.log("");
const totp12 = rows.find((r) => r.op.startsWith("TOTP unseal on TPM 1.2"))!;
console.log(`TOTP unseal: bootward ${totp.commands} commands on TPM 2.0, ${totp12.commands} on TPM 1.2 (goal ≤ 5, no key created) vs Heads/tpm2-tools ${HEADS_TOTP_UNSEAL_COMMANDS} commands from 11 processes on TPM 2.0`);
if (totp.commands > 5 || totp.names.includes("CreatePrimary") || totp12.commands > 5) process.exitCode = 1;
