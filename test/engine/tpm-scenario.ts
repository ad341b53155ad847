// Issue 3's engine test: `bootward tpm …` drives swtpm through a pty as it would /dev/tpm0,
// one process per command as an operator in the recovery shell would. The same scenario runs
// on the native binary and on QuickJS in WebAssembly (tpm-native / tpm-wasm .test.ts): the two
// engines differ in version, so both must pass.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startSwtpmPty, type SwtpmPty } from "../support/swtpm.ts";

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `bootward --tpm DEVICE tpm ARGS…` on one engine. */
export type Engine = (device: string, args: string[]) => Promise<Run>;

export function tpmScenario(name: string, prepare: (work: string) => Promise<Engine>): void {
  const PCRS = "0,1,2,3,4,7";
  let pty: SwtpmPty;
  let work: string;
  let secret: Buffer;
  let engine: Engine;
  const file = (name: string) => join(work, name);


  async function bootward(...args: string[]): Promise<Run> {
    await pty.ready();
    return engine(pty.device, args);
  }

  async function ok(...args: string[]): Promise<Run> {
    const run = await bootward(...args);
    assert.equal(run.status, 0, `tpm ${args.join(" ")}: ${run.stderr}`);
    return run;
  }

  const sha256 = (...parts: (string | Uint8Array)[]) => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return h.digest();
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), `bootward-tpm-${name}-`));
    engine = await prepare(work);
    // Binary on purpose: bytes a text path would mangle (NUL, newline, high bytes) must survive.
    secret = Buffer.concat([Buffer.from([0, 10, 13, 0xff]), randomBytes(28)]);
    writeFileSync(file("secret"), secret);
    writeFileSync(file("owner"), "owner passphrase\n");
    writeFileSync(file("disk-pass"), "correct horse\n");
    writeFileSync(file("wrong-pass"), "battery staple\n");
    pty = await startSwtpmPty();
  });

  after(async () => {
    await pty?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(`${name}: tpm info reports a TPM 2.0`, async () => {
    const run = await ok("info");
    assert.match(run.stdout, /^version: 2\.0$/m);
    assert.match(run.stdout, /^manufacturer: IBM$/m);
  });

  test(`${name}: tpm extend 16 moves PCR 16 to SHA-256(old ‖ SHA-256(data))`, async () => {
    const read = await ok("pcrread", "16");
    const m = /^16: ([0-9a-f]{64})$/.exec(read.stdout.trim());
    assert.ok(m, read.stdout);
    const expected = sha256(Buffer.from(m[1]!, "hex"), sha256("x")).toString("hex");
    assert.equal((await ok("extend", "16", "--string", "x")).stdout.trim(), `16: ${expected}`);
    assert.equal((await ok("pcrread", "16")).stdout.trim(), `16: ${expected}`);
  });

  test(`${name}: reset, seal a file to PCRs 0-4,7, unseal gives back exactly its bytes`, async () => {
    await ok("reset", "--owner-passphrase-file", file("owner"));
    await ok("seal", "0x4d47", "--pcrs", PCRS, "--secret-file", file("secret"), "--owner-passphrase-file", file("owner"));
    const run = await ok("unseal", "0x4d47", "--pcrs", PCRS, "--hex");
    assert.equal(run.stdout, `${secret.toString("hex")}\n`);
  });

  test(`${name}: a passphrase-bound secret: the wrong passphrase is refused, the right one unseals`, async () => {
    await ok("seal", "0x4d48", "--pcrs", PCRS, "--secret-file", file("secret"), "--passphrase-file", file("disk-pass"), "--owner-passphrase-file", file("owner"));
    const wrong = await bootward("unseal", "0x4d48", "--pcrs", PCRS, "--passphrase-file", file("wrong-pass"), "--hex");
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    assert.equal(wrong.stdout, "");
    const none = await bootward("unseal", "0x4d48", "--pcrs", PCRS, "--hex");
    assert.equal(none.status, 1);
    assert.match(none.stderr, /this secret needs a passphrase/);
    assert.equal(none.stdout, "");
    const right = await ok("unseal", "0x4d48", "--pcrs", PCRS, "--passphrase-file", file("disk-pass"), "--hex");
    assert.equal(right.stdout, `${secret.toString("hex")}\n`);
  });

  test(`${name}: after PCR 7 is extended, unseal exits 1 naming the PCR policy and prints no secret`, async () => {
    await ok("extend", "7", "--string", "tamper");
    for (const extra of [[], ["--passphrase-file", file("disk-pass")]]) {
      const handle = extra.length ? "0x4d48" : "0x4d47";
      const run = await bootward("unseal", handle, "--pcrs", PCRS, ...extra, "--hex");
      assert.equal(run.status, 1, run.stdout);
      assert.match(run.stderr, /unseal refused: the PCR values \(0,1,2,3,4,7\)/);
      assert.equal(run.stdout, "");
      assert.ok(!run.stderr.includes(secret.toString("hex")));
    }
  });
}
