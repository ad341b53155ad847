// The "no secret on /boot or the drive" scans must be able to fail: each kind of leak they look
// for is planted here and must be reported.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import * as openpgp from "openpgp";
import { base32Encode } from "../../runtime/attest/base32.ts";
import { secretsFound } from "../support/secret-scan.ts";
import { extFiles } from "../support/backup-drive.ts";
import { toolPath } from "../../initrd/host-tools.ts";

const dir = mkdtempSync(join(tmpdir(), "bootward-scan-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const totp = Uint8Array.from({ length: 20 }, (_, i) => (i * 37 + 11) & 255);

function plant(name: string, content: Uint8Array | string): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

test("each leak is found: raw and base32 TOTP secret, passphrase, binary and armoured secret keys; a clean file is not", async () => {
  const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Scan" }], format: "object" });
  const protectedKey = await openpgp.encryptKey({ privateKey, passphrase: "backup pass" });
  const files = {
    raw: plant("raw", Buffer.concat([Buffer.from("header"), totp, Buffer.from("trailer")])),
    base32: plant("url", `otpauth://totp/board?secret=${base32Encode(totp)}`),
    pass: plant("pass", "user typed: cut-power-pass\n"),
    binary: plant("key.gpg", privateKey.write()),
    armoured: plant("key.asc", privateKey.armor()),
    protectedCopy: plant("backup.asc", protectedKey.armor()),
    clean: plant("clean", Buffer.alloc(4096, 7)),
  };
  const known = { passphrases: ["cut-power-pass"], totp: [totp] };
  assert.deepEqual(secretsFound([files.raw], known), [`${files.raw}: the raw TOTP secret`]);
  assert.deepEqual(secretsFound([files.base32], known), [`${files.base32}: the TOTP secret in base32`]);
  assert.deepEqual(secretsFound([files.pass], known), [`${files.pass}: the passphrase`]);
  assert.deepEqual(secretsFound([files.binary], known), [`${files.binary}: an unprotected OpenPGP secret key`]);
  assert.deepEqual(secretsFound([files.armoured], known), [`${files.armoured}: an unprotected OpenPGP secret key`]);
  assert.deepEqual(secretsFound([files.protectedCopy], known), [], "a protected copy may live on the backup drive");
  assert.deepEqual(secretsFound([files.protectedCopy], { ...known, noSecretKeyAtAll: true }), [`${files.protectedCopy}: a (protected) OpenPGP secret key`, `${files.protectedCopy}: an armoured OpenPGP secret key`]);
  assert.deepEqual(secretsFound([files.clean], { ...known, noSecretKeyAtAll: true }), []);
});

test("the QEMU tests' /boot dump reaches a binary secret key in a subdirectory of an ext image", async () => {
  const { privateKey } = await openpgp.generateKey({ type: "ecc", curve: "ed25519Legacy", userIDs: [{ name: "Dump" }], format: "object" });
  const tree = join(dir, "tree");
  mkdirSync(join(tree, "grub"), { recursive: true });
  writeFileSync(join(tree, "grub", "fonts.pf2"), privateKey.write());
  writeFileSync(join(tree, "kexec_hashes.txt"), "0000  ./vmlinuz\n");
  const image = join(dir, "boot.ext4");
  execFileSync(toolPath("mkfs.ext4"), ["-q", "-F", "-d", tree, image, "4M"], { stdio: "ignore" });
  const files = extFiles(image, join(dir, "dumped"));
  assert.equal(files.length, 2);
  const hidden = files.find((f) => f.endsWith("grub/fonts.pf2"))!;
  assert.deepEqual(secretsFound(files, { passphrases: [], totp: [], noSecretKeyAtAll: true }), [`${hidden}: an unprotected OpenPGP secret key`]);
});
