// `bootward tpm …` on a TPM 1.2 through the device path (a pty bridged to swtpm 1.2): HANDLE
// is the NV index, --owner-passphrase-file the owner authorization, counters are named and
// printed as tpmtotp does (decimal countID, the 20 hex digits of TPM_COUNTER_VALUE).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwtpmPty, type SwtpmPty } from "../support/swtpm.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { tpmCommand } from "../../runtime/cli/tpm.ts";
import { UsageError } from "../../runtime/cli/context.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

let pty: SwtpmPty;
let root: string;
const sys = createNodeSys();

function cli(...args: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  return pty.ready().then(async () => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await tpmCommand(args, { sys: rootedSys(sys, root), options: { tpm: pty.device, json: false }, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { status, out, err };
  });
}

const sha1 = (...parts: (string | Uint8Array)[]) => {
  const h = createHash("sha1");
  for (const p of parts) h.update(p);
  return h.digest();
};

before(async () => {
  pty = await startSwtpmPty("1.2");
  root = mkdtempSync(join(tmpdir(), "bootward-cli12-root-"));
  writeFileSync(join(root, "owner"), "owner pass\n");
  writeFileSync(join(root, "disk-pass"), "disk passphrase\n");
  writeFileSync(join(root, "wrong-pass"), "not it\n");
  writeFileSync(join(root, "secret"), "the disk unlock key");
});

after(async () => {
  await pty.stop();
  rmSync(root, { recursive: true, force: true });
});

test("tpm info and reset on TPM 1.2", async () => {
  assert.equal((await cli("info")).out[0], "version: 1.2");
  const r = await cli("reset", "--owner-passphrase-file", "/owner");
  assert.equal(r.status, 0, r.err.join("\n"));
  assert.match(r.err.join("\n"), /storage root key created with the well-known authorization/);
});

test("seal at NV index 0x4d47 with the owner passphrase; unseal --hex; a moved PCR refuses with exit 1", async () => {
  const s = await cli("seal", "4d47", "--pcrs", "0,1,2,3,4,7", "--random", "20", "--owner-passphrase-file", "/owner");
  assert.equal(s.status, 0, s.err.join("\n"));
  const u = await cli("unseal", "0x4d47", "--pcrs", "0-4,7", "--hex");
  assert.equal(u.status, 0, u.err.join("\n"));
  assert.match(u.out[0]!, /^[0-9a-f]{40}$/);
  const p = await cli("seal", "3", "--pcrs", "0-7", "--secret-file", "/secret", "--passphrase-file", "/disk-pass", "--owner-passphrase-file", "/owner");
  assert.equal(p.status, 0, p.err.join("\n"));
  assert.deepEqual((await cli("unseal", "3", "--pcrs", "0-7", "--passphrase-file", "/disk-pass")).out, ["the disk unlock key"]);
  const wrong = await cli("unseal", "3", "--pcrs", "0-7", "--passphrase-file", "/wrong-pass");
  assert.equal(wrong.status, 1);
  assert.match(wrong.err.join("\n"), /unseal refused: wrong passphrase/);
  assert.equal((await cli("extend", "4", "--string", "recovery")).status, 0);
  const moved = await cli("unseal", "4d47", "--pcrs", "0,1,2,3,4,7", "--hex");
  assert.equal(moved.status, 1);
  assert.match(moved.err.join("\n"), /unseal refused: the PCR values \(0,1,2,3,4,7\) are not those the secret was sealed to/);
});

test("seal to a predicted PCR value (40 hex digits): refused until the PCR reaches it, then unsealed", async () => {
  const now = Buffer.from((await cli("pcrread", "14")).out[0]!.slice(4), "hex");
  const next = sha1(now, sha1("next boot")).toString("hex");
  const s = await cli("seal", "5", "--pcrs", "14", "--pcr-value", `14=${next}`, "--secret-file", "/secret", "--owner-passphrase-file", "/owner");
  assert.equal(s.status, 0, s.err.join("\n"));
  const early = await cli("unseal", "5", "--pcrs", "14");
  assert.equal(early.status, 1);
  assert.match(early.err.join("\n"), /unseal refused/);
  assert.equal((await cli("extend", "14", "--string", "next boot")).out[0], `14: ${next}`);
  assert.deepEqual((await cli("unseal", "5", "--pcrs", "14")).out, ["the disk unlock key"]);
  await assert.rejects(cli("seal", "5", "--pcrs", "14", "--pcr-value", `14=${"ab".repeat(32)}`, "--random", "20"), UsageError, "a SHA-256 value on a SHA-1 TPM");
});

test("counters as tpmtotp names and prints them: decimal id, 20 hex digits", async () => {
  const c = await cli("counter", "create", "--owner-passphrase-file", "/owner");
  assert.equal(c.status, 0, c.err.join("\n"));
  const m = /^(\d+): \(valid after an increment\)$/.exec(c.out[0]!);
  assert.ok(m, c.out[0]);
  const one = (await cli("counter", "increment", m[1]!)).out[0]!;
  assert.match(one, new RegExp(`^${m[1]}: [0-9a-f]{20}$`));
  const two = (await cli("counter", "increment", m[1]!)).out[0]!;
  assert.equal(BigInt(`0x${two.split(": ")[1]}`) - BigInt(`0x${one.split(": ")[1]}`), 1n);
  assert.deepEqual((await cli("counter", "read", m[1]!)).out, [two]);
  await assert.rejects(cli("counter", "read", "1a"), UsageError, "a hex id on TPM 1.2");
});
