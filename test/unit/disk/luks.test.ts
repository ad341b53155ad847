// The disk-key building blocks against real cryptsetup on LUKS1 and LUKS2 image files (PBKDF2
// with few iterations, for speed), swtpm for PCR 6 and GNU cpio as the reader of the key cpio.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { addKey, killSlot, luksInfo, LuksError, parseLuksDump, testPassphrase } from "../../../runtime/platform/luks.ts";
import { headerBackupName, luksHeaderText, measureLuksHeaders } from "../../../runtime/disk/headers.ts";
import { LUKS_HEADER_PCR } from "../../../runtime/measure/pcr-roles.ts";
import { buildKeyInitrd, defaultOverrides, keyCpio, KeyInitrdError, parseOverrides } from "../../../runtime/disk/key-initrd.ts";
import { writeCpio } from "../../../lib/cpio.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeLuksImage } from "../../support/luks.ts";

const sys = createNodeSys();
const enc = (s: string) => new TextEncoder().encode(s);
const RECOVERY = "disk recovery passphrase";
let dir: string;
let sw: Swtpm;
const images: Record<1 | 2, string> = { 1: "", 2: "" };

const luksImage = (version: 1 | 2) => makeLuksImage(join(dir, `luks${version}.img`), version, RECOVERY);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-luks-"));
  images[1] = luksImage(1);
  images[2] = luksImage(2);
  sw = await startSwtpm("2.0");
});
after(async () => {
  await sw.stop();
  rmSync(dir, { recursive: true, force: true });
});

for (const version of [1, 2] as const) {
  test(`LUKS${version}: the header read, a 128-byte key added to Heads' slot opens the volume, a wrong passphrase does not`, async () => {
    const image = images[version];
    const info = await luksInfo(sys, image);
    assert.equal(info.version, version);
    assert.equal(info.uuid, execFileSync("cryptsetup", ["luksUUID", image]).toString().trim());
    assert.deepEqual(info.slots, [0]);
    const slot = version === 2 ? 31 : 7;
    const key = sys.randomBytes(128);
    const keyFile = join(dir, `key${version}`);
    writeFileSync(keyFile, key, { mode: 0o400 });
    await assert.rejects(addKey(sys, image, enc("not the recovery passphrase"), keyFile, slot), (e: unknown) => e instanceof LuksError && /adding a key to slot/.test(e.message));
    await addKey(sys, image, enc(RECOVERY), keyFile, slot);
    assert.deepEqual((await luksInfo(sys, image)).slots, [0, slot]);
    if (version === 2) assert.match(execFileSync("cryptsetup", ["luksDump", image]).toString(), new RegExp(`\\n  ${slot}: luks2\\n(?:\\t.*\\n)*?\\tPBKDF:      pbkdf2\\n\\tHash:       \\S+\\n\\tIterations: 1000\\n`), "the random key's slot is not stretched");
    assert.equal(await testPassphrase(sys, image, key, slot), true);
    assert.equal(await testPassphrase(sys, image, enc(RECOVERY), slot), false, "the recovery passphrase is not in the key's slot");
    assert.equal(await testPassphrase(sys, image, enc("wrong")), false);
    // The independent reader agrees the key opens the volume.
    execFileSync("cryptsetup", ["open", "--test-passphrase", "--key-file", keyFile, image]);
    await killSlot(sys, image, enc(RECOVERY), slot);
    assert.deepEqual((await luksInfo(sys, image)).slots, [0]);
    assert.equal(await testPassphrase(sys, image, key), false);
  });
}

test("a header that is not LUKS is refused with a sentence", async () => {
  const junk = join(dir, "junk.img");
  writeFileSync(junk, Buffer.alloc(1 << 20, 0x5a));
  await assert.rejects(luksInfo(sys, junk), (e: unknown) => e instanceof LuksError && /reading the LUKS header of .*junk\.img failed \(cryptsetup: /.test(e.message));
  assert.throws(() => parseLuksDump("Version: 2\n"), /no version or UUID/);
});

test("the headers' text is what Heads' qubes-measure-luks.sh makes; it moves with the header and is extended into PCR 6", async () => {
  const devices = [images[2], images[1]];
  const work = mkdtempSync(join(dir, "work-"));
  const text = await luksHeaderText(sys, devices, work);
  // Heads' own commands, with its /tmp names: luksHeaderBackup per device, then sha256sum in glob (byte) order.
  const tmpNames = devices.map((d) => `/tmp/${headerBackupName(d)}`).sort();
  try {
    for (const d of devices) execFileSync("cryptsetup", ["luksHeaderBackup", d, "--header-backup-file", `/tmp/${headerBackupName(d)}`]);
    assert.equal(text, execFileSync("sha256sum", tmpNames).toString());
  } finally {
    for (const n of tmpNames) rmSync(n, { force: true });
  }
  assert.deepEqual(execFileSync("ls", ["-A", work]).toString(), "", "the backups are removed");
  // A changed header (one more key slot) changes the text.
  const keyFile = join(dir, "extra");
  writeFileSync(keyFile, "another passphrase");
  execFileSync("cryptsetup", ["luksAddKey", "--key-file", "-", images[2], keyFile], { input: RECOVERY });
  const changed = await luksHeaderText(sys, devices, work);
  assert.notEqual(changed, text);
  const { before, after, measured } = await sw.withTpm(async (tpm) => {
    const before = (await tpm.pcrRead([LUKS_HEADER_PCR])).get(LUKS_HEADER_PCR)!;
    const measured = await measureLuksHeaders(sys, tpm, devices, work);
    return { before, after: (await tpm.pcrRead([LUKS_HEADER_PCR])).get(LUKS_HEADER_PCR)!, measured };
  });
  assert.equal(measured, changed);
  const sha256 = (...p: (Uint8Array | string)[]) => p.reduce((h, x) => h.update(x), createHash("sha256")).digest();
  assert.deepEqual(Buffer.from(after), sha256(before, sha256(changed)));
});

test("the key cpio, read by GNU cpio: /secret.key 0400 and Heads' default crypttab lines in both places", () => {
  const key = new Uint8Array(128).map((_, i) => i);
  const overrides = defaultOverrides([{ device: "/dev/vda2", uuid: "0a1b2c3d-0000-4000-8000-00000000000a" }]);
  const cpio = keyCpio(key, overrides);
  const listing = execFileSync("cpio", ["-itv", "--quiet"], { input: cpio }).toString();
  assert.match(listing, /^-r-------- .* secret\.key$/m);
  const out = mkdtempSync(join(dir, "cpio-"));
  execFileSync("cpio", ["-idm", "--quiet"], { input: cpio, cwd: out });
  assert.deepEqual(readFileSync(join(out, "secret.key")), Buffer.from(key));
  const line = "luks-0a1b2c3d-0000-4000-8000-00000000000a UUID=0a1b2c3d-0000-4000-8000-00000000000a /secret.key luks,discard\n";
  assert.equal(readFileSync(join(out, "etc/crypttab"), "utf8"), line);
  assert.equal(readFileSync(join(out, "cryptroot/crypttab"), "utf8"), line);
});

test("crypttab overrides: Heads' `<path>:<line>` lines; a path that climbs out is refused", () => {
  assert.deepEqual(parseOverrides("/cryptroot/crypttab:luks-x UUID=x /secret.key luks\n"), [{ path: "cryptroot/crypttab", line: "luks-x UUID=x /secret.key luks" }]);
  assert.throws(() => parseOverrides("../etc/crypttab:luks-x UUID=x none luks\n"), KeyInitrdError);
  assert.throws(() => parseOverrides("no colon here\n"), KeyInitrdError);
});

test("the OS initrd with the key: the original bytes, zeros to 512, then the key cpio as the kernel finds it", async () => {
  const os = join(dir, "os-initrd.img");
  const original = writeCpio([{ type: "file", path: "init", mode: 0o755, data: enc("#!/bin/sh\n") }]);
  // An odd length, as a compressed initrd has: the padding must fill to the boundary.
  writeFileSync(os, Buffer.concat([Buffer.from(original), Buffer.alloc(13, 1)]));
  const size = statSync(os).size;
  const target = join(dir, "initrd-with-key");
  const key = new Uint8Array(128).fill(7);
  await buildKeyInitrd(sys, os, target, key, defaultOverrides([{ device: "/dev/vda2", uuid: "11111111-2222-4333-8444-555555555555" }]));
  const bytes = readFileSync(target);
  const start = Math.ceil(size / 512) * 512;
  assert.deepEqual(bytes.subarray(0, size), readFileSync(os));
  assert.ok(bytes.subarray(size, start).every((b) => b === 0), "zero padding up to the 512-byte boundary");
  const listing = execFileSync("cpio", ["-it", "--quiet"], { input: bytes.subarray(start) }).toString().trim().split("\n");
  assert.deepEqual(listing.sort(), ["cryptroot", "cryptroot/crypttab", "etc", "etc/crypttab", "secret.key"]);
  await assert.rejects(buildKeyInitrd(sys, join(dir, "missing"), target, key, []), KeyInitrdError);
});
