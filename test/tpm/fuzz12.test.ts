// Truncated and garbled TPM 1.2 responses, for every command of the flows bootward runs on
// 1.2: each must end in the specific TpmError subclass the damage calls for.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { openTpm, TpmError, TpmFormatError, TpmIntegrityError, type Tpm } from "../../tpm/index.ts";
import type { Tpm12Backend } from "../../tpm/tpm12/backend.ts";
import { startSwtpm12 } from "../support/swtpm12.ts";
import { RecordTransport, ReplayTransport, mutate, prng } from "./fuzz-core.ts";

const OWNER = "owner-pw";
const SEED = 0x1212;
type Op = (tpm: Tpm) => Promise<unknown>;
interface Scenario {
  name: string;
  op: Op;
  responses: Uint8Array[];
}

const TOTP = { handle: 0x4d47, pcrs: [0, 1, 2, 3, 7] };
let counter = 0;
const OPS: [string, Op][] = [
  ["info", (t) => t.info()],
  ["pcrread", (t) => t.pcrRead([0, 1, 2, 3, 7])],
  ["extend", (t) => t.extend(16, "fuzz")],
  ["seal", (t) => t.seal(new Uint8Array(20).fill(1), { ...TOTP, ownerPassphrase: OWNER })],
  ["reseal in place", (t) => t.seal(new Uint8Array(20).fill(2), TOTP)],
  ["unseal", (t) => t.unseal(TOTP)],
  ["nv define", (t) => t.nvDefine(0x1000, 16, { ownerPassphrase: OWNER })],
  ["nv write", (t) => t.nvWrite(0x1000, new Uint8Array(16).fill(3), OWNER)],
  ["nv read", (t) => t.nvRead(0x1000)],
  ["nv undefine", (t) => t.nvUndefine(0x1000, OWNER)],
  ["counter create", async (t) => (counter = await t.counterCreate({ ownerPassphrase: OWNER }))],
  ["counter read", (t) => t.counterRead(counter)],
  ["counter increment", (t) => t.counterIncrement(counter)],
  ["destroy", (t) => t.destroy(TOTP.handle, OWNER)],
  ["reset", (t) => t.reset({ ownerPassphrase: "new-owner" })],
  ["finalize", (t) => t.finalize()],
  ["shutdown", (t) => t.shutdown()],
];

let scenarios: Scenario[];

before(async () => {
  const sw = await startSwtpm12({ owner: OWNER });
  scenarios = [];
  try {
    const setup = (await openTpm(sw.transport())) as Tpm12Backend;
    await setup.useWellKnownSrkAuth(OWNER);
    setup.close();
    for (const [name, op] of OPS) {
      const t = new RecordTransport(sw.transport());
      const tpm = await openTpm(t, { random: prng(SEED) });
      await op(tpm);
      tpm.close();
      scenarios.push({ name, op, responses: t.responses });
    }
  } finally {
    await sw.stop();
  }
});

async function outcome(s: Scenario, responses: Uint8Array[]): Promise<unknown> {
  try {
    const tpm = await openTpm(new ReplayTransport(responses), { random: prng(SEED) });
    await s.op(tpm);
    return null;
  } catch (e) {
    return e;
  }
}

function withResponse(s: Scenario, i: number, r: Uint8Array): Uint8Array[] {
  const out = s.responses.slice();
  out[i] = r;
  return out;
}

test("every recorded 1.2 scenario replays cleanly", async () => {
  assert.equal(scenarios.length, OPS.length);
  for (const s of scenarios) assert.equal(await outcome(s, s.responses), null, s.name);
});

test("a truncated response (size field as sent) is a TpmFormatError, at every cut of every response", async () => {
  let runs = 0;
  for (const s of scenarios) {
    for (let i = 0; i < s.responses.length; i++) {
      const full = s.responses[i]!;
      for (let cut = 0; cut < full.length; cut++) {
        const e = await outcome(s, withResponse(s, i, full.subarray(0, cut)));
        assert.ok(e instanceof TpmFormatError, `${s.name}: response ${i} cut at ${cut}: ${String(e)}`);
        runs++;
      }
    }
  }
  assert.ok(runs > 3000, `${runs} truncations`);
});

test("any byte changed after the header of an authorized response is a TpmIntegrityError", async () => {
  let runs = 0;
  for (const s of scenarios) {
    for (let i = 0; i < s.responses.length; i++) {
      const full = s.responses[i]!;
      if (full[1] !== 0xc5 && full[1] !== 0xc6) continue;
      for (let at = 10; at < full.length; at++) {
        const bad = full.slice();
        bad[at]! ^= 0x01 << (at % 8);
        const e = await outcome(s, withResponse(s, i, bad));
        assert.ok(e instanceof TpmIntegrityError, `${s.name}: response ${i} byte ${at}: ${String(e)}`);
        runs++;
      }
    }
  }
  assert.ok(runs > 1000, `${runs} authorized responses altered`);
});

test("20k random mutations end in a result or a TpmError subclass, never another error", { timeout: 600_000 }, async () => {
  const rnd = prng(0xfa11);
  const classes: Record<string, number> = {};
  for (let n = 0; n < 20_000; n++) {
    const s = scenarios[rnd(1)[0]! % scenarios.length]!;
    const i = rnd(1)[0]! % s.responses.length;
    const e = await outcome(s, withResponse(s, i, mutate(s.responses[i]!, rnd)));
    if (e === null) continue;
    assert.ok(e instanceof TpmError, `${s.name}: response ${i}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    classes[e.name] = (classes[e.name] ?? 0) + 1;
  }
  for (const name of ["TpmFormatError", "TpmIntegrityError", "TpmResponseError"]) assert.ok((classes[name] ?? 0) > 0, `no ${name} in ${JSON.stringify(classes)}`);
});
