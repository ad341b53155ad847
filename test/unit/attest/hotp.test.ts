// HOTP with a dongle: the hotp_verification driver against the SIMULATED dongle (a test
// double honouring the tool's command line and exit codes; no real dongle exists here),
// run as a separate program through the Node Sys, and the /boot/kexec_hotp_counter file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { HotpVerificationDongle } from "../../../runtime/attest/hotp/dongle.ts";
import { freshSimState, SIM_STATE_ENV } from "../../attest/support/hotp-simulator.ts";
import { programDongle, verifyWithDongle } from "../../../runtime/attest/hotp.ts";
import { HotpCounterError, readHotpCounter } from "../../../runtime/attest/hotp/counter-file.ts";
import { hotpCode } from "../../../runtime/attest/otp.ts";
import { runCli } from "../../../runtime/cli/index.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const sys = createNodeSys();
const sim = resolve("test/attest/support/hotp-sim.ts");

function setup() {
  const root = mkdtempSync(join(tmpdir(), "bootward-hotp-"));
  mkdirSync(join(root, "boot"));
  const state = join(root, "dongle.json");
  const env = { [SIM_STATE_ENV]: state };
  const execSys = { ...sys, exec: (argv: string[], o = {}) => sys.exec(argv, { ...o, env }) };
  const dongle = new HotpVerificationDongle(execSys, [process.execPath, "--import", "tsx", sim], "Simulated dongle");
  return { root, state, dongle, done: () => rmSync(root, { recursive: true, force: true }) };
}

test("program the dongle, then boots: Success while codes advance; replayed or wrong secrets are refused", async () => {
  const { root, state, dongle, done } = setup();
  try {
    assert.equal((await dongle.info()).present, false); // unplugged: no state file
    assert.equal((await dongle.check("123456")).result, "Dongle not found");
    writeFileSync(state, JSON.stringify(freshSimState()));
    assert.equal((await dongle.check("123456")).result, "HOTP slot not configured");
    const secret = new Uint8Array(20).map((_, i) => i * 7 + 1);
    assert.equal((await programDongle(secret, dongle, new TextEncoder().encode("wrong"), rootedSys(sys, root))).result, "Wrong PIN");
    assert.equal((await programDongle(secret, dongle, new TextEncoder().encode("12345678"), rootedSys(sys, root))).result, "Success");
    assert.equal(readFileSync(join(root, "boot/kexec_hotp_counter"), "utf8"), "2\n");
    assert.equal(readFileSync(join(root, "boot/kexec_hotp_key"), "utf8"), "Simulated dongle\n");
    for (const n of [2, 3]) {
      const r = await verifyWithDongle(secret, dongle, rootedSys(sys, root));
      assert.deepEqual([r.result, r.counter], ["Success", n]);
    }
    assert.equal(readHotpCounter(rootedSys(sys, root)), 4);
    // a code already used (counter 3) is refused: the dongle only looks ahead
    assert.equal((await dongle.check(hotpCode(secret, 3))).result, "Invalid code");
    // another secret gives codes the dongle refuses
    const other = secret.slice();
    other[0]! ^= 1;
    assert.equal((await verifyWithDongle(other, dongle, rootedSys(sys, root))).result, "Invalid code");
    // a counter file ahead of the dongle by up to 9 is accepted (the dongle resyncs); further ahead is not
    writeFileSync(join(root, "boot/kexec_hotp_counter"), "12\n");
    assert.equal((await verifyWithDongle(secret, dongle, rootedSys(sys, root))).result, "Success");
    writeFileSync(join(root, "boot/kexec_hotp_counter"), "40\n");
    assert.equal((await verifyWithDongle(secret, dongle, rootedSys(sys, root))).result, "Invalid code");
    assert.equal((await dongle.check("12ab56")).result, "Invalid code");
  } finally {
    done();
  }
});

test("the counter file: missing or garbage is a clear error", () => {
  const root = mkdtempSync(join(tmpdir(), "bootward-hotp-"));
  try {
    assert.throws(() => readHotpCounter(rootedSys(sys, root)), HotpCounterError);
    mkdirSync(join(root, "boot"));
    writeFileSync(join(root, "boot/kexec_hotp_counter"), "two\n");
    assert.throws(() => readHotpCounter(rootedSys(sys, root)), /does not hold a counter/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("bootward totp / hotp with --secret-file agree with the library; usage errors exit 2", async () => {
  const root = mkdtempSync(join(tmpdir(), "bootward-otp-cli-"));
  try {
    writeFileSync(join(root, "key"), "12345678901234567890");
    const out: string[] = [];
    const cli = (...argv: string[]) => runCli(argv, { ...sys, console: { ...sys.console, write: (t: string) => void out.push(t.trim()), writeError: () => {} } });
    assert.equal(await cli("totp", "--secret-file", join(root, "key"), "--time", "59"), 0);
    assert.equal(out.pop(), "287082");
    assert.equal(await cli("hotp", "--secret-file", join(root, "key"), "--counter", "0"), 0);
    assert.equal(out.pop(), "755224"); // RFC 4226 appendix D, count 0
    assert.equal(await cli("hotp", "--secret-file", join(root, "key")), 2);
    assert.equal(await cli("totp", "--time", "yesterday"), 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
