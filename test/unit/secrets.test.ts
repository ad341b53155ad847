// /tmp/secret is emptied by overwriting each file where it lies, then removing it: a hard
// link made beforehand shows what became of the bytes the secret occupied.
import assert from "node:assert/strict";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import type { Sys } from "../../runtime/host/sys.ts";
import { SECRET_DIR, wipeSecretDir } from "../../runtime/platform/secrets.ts";
import { rootedSys } from "../../runtime/host/rooted.ts";

const sys = createNodeSys();
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function rootWithSecrets(): { root: string; secret: string; witness: string } {
  const root = mkdtempSync(join(tmpdir(), "bootward-secrets-"));
  roots.push(root);
  const secret = join(root, SECRET_DIR);
  mkdirSync(join(secret, "nested"), { recursive: true });
  writeFileSync(join(secret, "totp.key"), "JBSWY3DPEHPK3PXP-raw-secret");
  writeFileSync(join(secret, "nested/gpg_pin"), "123456");
  // A second name for the secret's inode, outside the wiped tree.
  const witness = join(root, "witness");
  linkSync(join(secret, "totp.key"), witness);
  return { root, secret, witness };
}

test("wipeSecretDir zeroes each file in place, removes it and its directories, and keeps /tmp/secret", () => {
  const { root, secret, witness } = rootWithSecrets();
  assert.equal(wipeSecretDir(rootedSys(sys, root)), 3);
  assert.deepEqual(sys.readdir(secret), []);
  const left = readFileSync(witness);
  assert.equal(left.length, "JBSWY3DPEHPK3PXP-raw-secret".length, "the inode was truncated instead of overwritten");
  assert.ok(left.every((b) => b === 0), `the secret's bytes survive: ${left.toString()}`);
});

test("a link in /tmp/secret is removed, its target outside is not touched; a missing directory is nothing to do", () => {
  const { root, secret } = rootWithSecrets();
  const outside = join(root, "outside.txt");
  writeFileSync(outside, "not a secret");
  symlinkSync(outside, join(secret, "link"));
  assert.equal(wipeSecretDir(rootedSys(sys, root)), 4);
  assert.equal(readFileSync(outside, "utf8"), "not a secret");
  rmSync(secret, { recursive: true });
  assert.equal(wipeSecretDir(rootedSys(sys, root)), 0);
});

test("the wipe never goes through a truncating write, and a failure is not swallowed", () => {
  const { root } = rootWithSecrets();
  const calls: string[] = [];
  const recording: Sys = {
    ...sys,
    writeFile: () => assert.fail("writeFile truncates first: the old pages keep the secret"),
    wipeFile: (path) => {
      calls.push(path.slice(root.length));
      if (path.endsWith("gpg_pin")) throw new Error("EIO");
      sys.wipeFile(path);
    },
  };
  assert.throws(() => wipeSecretDir(rootedSys(recording, root)), /EIO/);
  // Directory entries go in sorted order: "nested" first, so the failure stops the wipe there.
  assert.deepEqual(calls, ["/tmp/secret/nested/gpg_pin"]);
});
