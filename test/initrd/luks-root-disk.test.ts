// The LUKS root disk on the host: the header has the fixed UUID, 512-byte sectors and PBKDF2;
// the recovery passphrase opens slot 0, each extra key its slot from 31 down, a wrong key none;
// and where the data starts, the filesystem is not readable in clear.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LUKS_ROOT_UUID, LuksRootDiskError, makeLuksRootDisk } from "../../initrd/qemu/luks-root-disk.ts";

const RECOVERY = "recovery passphrase";
let dir: string;
let disk: string;
const keys = [new Uint8Array(128).fill(1), new Uint8Array(128).fill(2)];

before(() => {
  dir = mkdtempSync(join(tmpdir(), "bootward-luks-root-"));
  disk = makeLuksRootDisk({ outFile: join(dir, "root.img"), recoveryPassphrase: RECOVERY, extraKeys: keys }).path;
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `key` opens `slot` (cryptsetup's own check, no device-mapper needed). */
function opens(key: Uint8Array | string, slot: number): boolean {
  const file = join(dir, "try.key");
  writeFileSync(file, key, { mode: 0o600 });
  try {
    execFileSync("cryptsetup", ["open", "--test-passphrase", `--key-file=${file}`, "--key-slot", String(slot), disk], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(file, { force: true });
  }
}

test("the header: fixed UUID, LUKS2, 512-byte sectors, PBKDF2 key slots 0, 31 and 30", () => {
  const meta = JSON.parse(execFileSync("cryptsetup", ["luksDump", "--dump-json-metadata", disk], { encoding: "utf8" })) as {
    keyslots: Record<string, { kdf: { type: string } }>;
    segments: Record<string, { sector_size: number; offset: string }>;
  };
  assert.equal(execFileSync("cryptsetup", ["luksUUID", disk], { encoding: "utf8" }).trim(), LUKS_ROOT_UUID);
  assert.deepEqual(Object.keys(meta.keyslots).map(Number).sort((a, b) => a - b), [0, 30, 31]);
  for (const slot of Object.values(meta.keyslots)) assert.equal(slot.kdf.type, "pbkdf2");
  assert.equal(meta.segments["0"]!.sector_size, 512);
});

test("each key opens its own slot only; a wrong passphrase opens none", () => {
  assert.ok(opens(RECOVERY, 0));
  assert.ok(opens(keys[0]!, 31));
  assert.ok(opens(keys[1]!, 30));
  assert.ok(!opens(keys[0]!, 0));
  assert.ok(!opens(`${RECOVERY}\n`, 0), "a trailing newline must not open it: the prompt strips it, a key file does not");
  assert.ok(!opens("wrong", 0));
});

test("a passphrase that cannot be typed at a prompt is refused before anything is written", () => {
  assert.throws(() => makeLuksRootDisk({ outFile: join(dir, "bad.img"), recoveryPassphrase: "two\nlines" }), LuksRootDiskError);
  assert.throws(() => makeLuksRootDisk({ outFile: join(dir, "bad.img"), recoveryPassphrase: "" }), LuksRootDiskError);
});

test("the encrypted data is not the filesystem in clear: no ext4 magic where the header says the data starts", () => {
  const meta = JSON.parse(execFileSync("cryptsetup", ["luksDump", "--dump-json-metadata", disk], { encoding: "utf8" })) as { segments: Record<string, { offset: string }> };
  const offset = Number(meta.segments["0"]!.offset);
  const fd = openSync(disk, "r");
  const magic = Buffer.alloc(2);
  try {
    readSync(fd, magic, 0, 2, offset + 1024 + 0x38);
  } finally {
    closeSync(fd);
  }
  assert.notDeepEqual([...magic], [0x53, 0xef], "the ext4 superblock magic is readable: the disk is not encrypted");
});
