// `bootward tpm …` end to end on the device path: the real Node Sys opens a pty that socat
// bridges to swtpm (no resource manager, partial reads possible), as /dev/tpm0 would be.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwtpmPty, type SwtpmPty } from "../support/swtpm.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { tpmCommand } from "../../runtime/cli/tpm.ts";
import { UsageError } from "../../runtime/cli/context.ts";
import { FIRMWARE_EVENTS, buildAgileLog } from "./eventlog-builder.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

let pty: SwtpmPty;
let root: string;
const sys = createNodeSys();

async function cli(...args: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  await pty.ready();
  const out: string[] = [];
  const err: string[] = [];
  const status = await tpmCommand(args, { sys: rootedSys(sys, root), options: { tpm: pty.device, json: false }, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out, err };
}

const sha256 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

before(async () => {
  pty = await startSwtpmPty();
  root = mkdtempSync(join(tmpdir(), "bootward-cli-root-"));
  writeFileSync(join(root, "owner"), "owner pass\n");
  writeFileSync(join(root, "disk-pass"), "disk passphrase\n");
  writeFileSync(join(root, "wrong-pass"), "not it\n");
  writeFileSync(join(root, "secret"), "the disk unlock key");
  writeFileSync(join(root, "module.ko"), Buffer.alloc(5000, 7));
  writeFileSync(join(root, "log.bin"), buildAgileLog(FIRMWARE_EVENTS));
});

after(async () => {
  await pty.stop();
  rmSync(root, { recursive: true, force: true });
});

test("tpm info", async () => {
  const r = await cli("info");
  assert.equal(r.status, 0, r.err.join("\n"));
  assert.deepEqual(r.out.slice(0, 2), ["version: 2.0", "manufacturer: IBM"]);
});

test("tpm pcrread prints N: <hex>, all 24 without arguments", async () => {
  const r = await cli("pcrread", "0", "16");
  assert.equal(r.status, 0);
  assert.equal(r.out.length, 2);
  assert.match(r.out[0]!, /^0: [0-9a-f]{64}$/);
  assert.match(r.out[1]!, /^16: [0-9a-f]{64}$/);
  const all = await cli("pcrread");
  assert.equal(all.out.length, 24);
});

test("tpm extend --string and --file (resolved under --root)", async () => {
  const before = (await cli("pcrread", "16")).out[0]!.slice(4);
  const s = await cli("extend", "16", "--string", "hello");
  const v1 = sha256(Buffer.from(before, "hex"), sha256("hello"));
  assert.equal(s.out[0], `16: ${v1.toString("hex")}`);
  const f = await cli("extend", "16", "--file", "/module.ko");
  assert.equal(f.out[0], `16: ${sha256(v1, sha256(Buffer.alloc(5000, 7))).toString("hex")}`);
});

test("tpm reset, seal --random, unseal --hex", async () => {
  assert.equal((await cli("reset", "--owner-passphrase-file", "/owner", "--primary", "ecc")).status, 0);
  const s = await cli("seal", "4d47", "--pcrs", "0,1,2,3,4,7", "--random", "20", "--owner-passphrase-file", "/owner");
  assert.equal(s.status, 0, s.err.join("\n"));
  const u = await cli("unseal", "0x4d47", "--pcrs", "0-4,7", "--hex");
  assert.equal(u.status, 0, u.err.join("\n"));
  assert.match(u.out[0]!, /^[0-9a-f]{40}$/);
  const binary = await cli("unseal", "4d47", "--pcrs", "0-4,7");
  assert.ok(binary.status === 1 || /^[ -~]+$/.test(binary.out[0]!));
  assert.equal((await cli("extend", "7", "--string", "changed")).status, 0);
  const refused = await cli("unseal", "0x4d47", "--pcrs", "0-4,7", "--hex");
  assert.equal(refused.status, 1);
  assert.match(refused.err.join("\n"), /PCR values .* are not those the secret was sealed to/);
});

test("tpm seal with a passphrase; wrong passphrase and changed PCR are refused with exit 1", async () => {
  const s = await cli("seal", "3", "--pcrs", "0-7", "--secret-file", "/secret", "--passphrase-file", "/disk-pass", "--owner-passphrase-file", "/owner");
  assert.equal(s.status, 0, s.err.join("\n"));
  const u = await cli("unseal", "3", "--pcrs", "0-7", "--passphrase-file", "/disk-pass");
  assert.deepEqual(u.out, ["the disk unlock key"]);
  const wrong = await cli("unseal", "3", "--pcrs", "0-7", "--passphrase-file", "/wrong-pass");
  assert.equal(wrong.status, 1);
  assert.match(wrong.err.join("\n"), /wrong passphrase/);
  assert.equal((await cli("extend", "4", "--string", "recovery")).status, 0);
  const pcr = await cli("unseal", "4d47", "--pcrs", "0,1,2,3,4,7", "--hex");
  assert.equal(pcr.status, 1);
  assert.match(pcr.err.join("\n"), /unseal refused: the PCR values/);
});

test("tpm counter create, increment, read", async () => {
  const c = await cli("counter", "create", "--owner-passphrase-file", "/owner");
  assert.equal(c.status, 0, c.err.join("\n"));
  const m = /^(1[0-9a-f]{6}): \(valid after an increment\)$/.exec(c.out[0]!);
  assert.ok(m, c.out[0]);
  assert.deepEqual((await cli("counter", "increment", m[1]!)).out, [`${m[1]}: 0000000000000001`]);
  assert.deepEqual((await cli("counter", "increment", m[1]!)).out, [`${m[1]}: 0000000000000002`]);
  assert.deepEqual((await cli("counter", "read", m[1]!)).out, [`${m[1]}: 0000000000000002`]);
});

test("tpm eventlog on the real QEMU board log", async () => {
  copyFileSync(new URL("./fixtures/seabios-tpm2.bin", import.meta.url).pathname, join(root, "seabios.bin"));
  const list = await cli("eventlog", "--log", "/seabios.bin");
  assert.equal(list.status, 0, list.err.join("\n"));
  assert.ok(list.out.some((l) => / PCR 4 EV_ACTION [0-9a-f]{64} "Calling INT 19h"$/.test(l)));
});

test("tpm eventlog lists events; --replay reports mismatches with exit 1", async () => {
  const list = await cli("eventlog", "--log", "/log.bin");
  assert.equal(list.status, 0);
  assert.equal(list.out.length, FIRMWARE_EVENTS.length + 1);
  const r = await cli("eventlog", "--replay", "--log", "/log.bin");
  assert.equal(r.status, 1);
  assert.match(r.out.join("\n"), /^0: MISMATCH expected [0-9a-f]{64} live [0-9a-f]{64}$/m);
  assert.match(r.err.join("\n"), /PCR\(s\) differ/);
});

test("usage errors are UsageError (exit 2) and need no TPM", async () => {
  for (const args of [[], ["frob"], ["extend", "99", "--string", "x"], ["extend", "1"], ["seal", "4d47", "--random", "20"], ["unseal", "zz", "--pcrs", "0"], ["counter"], ["reset"], ["pcrread", "--bogus"]]) {
    await assert.rejects(tpmCommand(args, { sys: rootedSys(sys, root), options: { tpm: "/nonexistent", json: false }, out: () => {}, err: () => {} }), UsageError, args.join(" "));
  }
});

test("a missing device is a failure (exit 1) that names the path", async () => {
  const err: string[] = [];
  const status = await tpmCommand(["info"], { sys: rootedSys(sys, root), options: { tpm: "/nonexistent/tpm0", json: false }, out: () => {}, err: (l) => err.push(l) });
  assert.equal(status, 1);
  assert.match(err.join("\n"), /\/nonexistent\/tpm0/);
});
