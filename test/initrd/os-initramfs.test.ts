// The Debian OS initramfs on the host, without booting: it is Debian's mkinitramfs output (zstd,
// as Debian 12 compresses), it carries cryptroot with the installed system's crypttab, cryptsetup
// and the modules the root disk needs; the same inputs give the same bytes and a second call
// reuses them; and with bootward's key cpio appended, GNU cpio reads that second archive at the
// 512-byte boundary: /secret.key (0400) and both crypttabs naming it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LVM_PACKAGES, OS_INITRAMFS_REFRESH_COMMAND, OsInitramfsError, ROOT_PACKAGES, osInitramfs, readOsInitramfsLock, type OsInitramfs,
} from "../../initrd/os-initramfs.ts";
import { LUKS_ROOT_CRYPTTAB, LUKS_ROOT_MAPPING, LUKS_ROOT_UUID } from "../../initrd/qemu/luks-root-disk.ts";
import { DebianError, fetchDeb, readLock } from "../../initrd/debian.ts";
import { createNodeSys } from "../../runtime/host/node/sys.ts";
import { buildKeyInitrd, defaultOverrides } from "../../runtime/disk/key-initrd.ts";

let dir: string;
let image: OsInitramfs;
let archive: Buffer;

/** GNU cpio over the decompressed image: the listing, or one member's bytes. */
const cpio = (args: string[], input: Uint8Array) => execFileSync("cpio", ["--quiet", ...args], { input, maxBuffer: 256 * 1024 * 1024 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-os-initrd-"));
  image = await osInitramfs({ crypttab: [LUKS_ROOT_CRYPTTAB] });
  archive = execFileSync("zstd", ["-dc", image.path], { maxBuffer: 256 * 1024 * 1024 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("the lock pins every root package for the kernel of debian.lock.json, and lvm2's additions apart", () => {
  const lock = readOsInitramfsLock();
  assert.equal(lock.kernelRelease, readLock().kernelRelease);
  assert.deepEqual(lock.roots, [...ROOT_PACKAGES]);
  const base = new Set(lock.packages.map((p) => p.package));
  for (const name of [...ROOT_PACKAGES, "libc6", "libcryptsetup12", "libkmod2"]) assert.ok(base.has(name), `${name} is not pinned`);
  for (const name of LVM_PACKAGES) assert.ok(lock.lvmPackages.some((p) => p.package === name), `${name} is not among the LVM packages`);
  for (const p of [...lock.packages, ...lock.lvmPackages]) assert.match(p.sha256, /^[0-9a-f]{64}$/, p.package);
  assert.ok(!lock.lvmPackages.some((p) => base.has(p.package)), "a package is pinned twice");
});

test("a pinned version the archive no longer has stops with an error that names this lock's refresh command", () => {
  const deb = { ...readOsInitramfsLock().packages.find((p) => p.package === "initramfs-tools")!, version: "0.0-gone", filename: "pool/main/i/initramfs-tools/initramfs-tools_0.0-gone_all.deb" };
  assert.throws(() => fetchDeb(deb, OS_INITRAMFS_REFRESH_COMMAND), (e: unknown) => e instanceof DebianError && e.message.includes(OS_INITRAMFS_REFRESH_COMMAND));
});

test("the image is named for the pinned kernel, zstd-compressed as Debian 12's default, and reused when nothing changed", async () => {
  assert.equal(image.kernelRelease, readLock().kernelRelease);
  assert.ok(image.path.endsWith(`/initrd.img-${image.kernelRelease}`));
  assert.deepEqual([...readFileSync(image.path).subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], "not a zstd frame");
  const again = await osInitramfs({ crypttab: [LUKS_ROOT_CRYPTTAB] });
  assert.equal(again.reused, true);
  assert.equal(again.path, image.path);
  const other = osInitramfs({ crypttab: ["bad\nline"] });
  await assert.rejects(other, OsInitramfsError);
});

test("Debian's cryptroot is in: its scripts, cryptsetup, askpass, the crypttab line, dm-crypt, xts, virtio_blk and ext4", () => {
  const names = new Set(cpio(["-t"], archive).toString().trim().split("\n"));
  for (const path of [
    "init", "scripts/local-top/cryptroot", "scripts/local-block/cryptroot", "usr/lib/cryptsetup/functions",
    "usr/lib/cryptsetup/askpass", "cryptroot/crypttab", "conf/conf.d/cryptsetup",
  ]) assert.ok(names.has(path), `${path} is missing from the image`);
  assert.ok(names.has("sbin/cryptsetup") || names.has("usr/sbin/cryptsetup"), "cryptsetup is missing");
  const modules = [...names].filter((n) => n.endsWith(".ko")).map((n) => n.slice(n.lastIndexOf("/") + 1));
  for (const m of ["dm-crypt.ko", "dm-mod.ko", "xts.ko", "virtio_blk.ko", "virtio_pci.ko", "ext4.ko"]) assert.ok(modules.includes(m), `${m} is missing`);
  // The hook copies the installed crypttab's line, `initramfs` option and all (and no other).
  const crypttab = cpio(["-i", "--to-stdout", "cryptroot/crypttab"], archive).toString();
  assert.equal(crypttab, `${LUKS_ROOT_CRYPTTAB}\n`);
});

test("with the key cpio appended after padding to 512 bytes, GNU cpio reads /secret.key (0400) and both crypttab overrides", async () => {
  const target = join(dir, "initrd-with-key");
  const key = new Uint8Array(128).map((_, i) => (i * 7) & 0xff);
  await buildKeyInitrd(createNodeSys(), image.path, target, key, defaultOverrides([{ device: "/dev/vdc", uuid: LUKS_ROOT_UUID }]));
  const bytes = readFileSync(target);
  const start = Math.ceil(image.bytes / 512) * 512;
  assert.equal(statSync(image.path).size, image.bytes);
  assert.deepEqual(bytes.subarray(0, image.bytes), readFileSync(image.path), "the OS initrd's bytes come first, unchanged");
  const tail = bytes.subarray(start);
  const listing = cpio(["-tv"], tail).toString();
  assert.match(listing, /^-r-------- .* secret\.key$/m);
  assert.deepEqual(cpio(["-t"], tail).toString().trim().split("\n").sort(), ["cryptroot", "cryptroot/crypttab", "etc", "etc/crypttab", "secret.key"]);
  const line = `${LUKS_ROOT_MAPPING} UUID=${LUKS_ROOT_UUID} /secret.key luks,discard\n`;
  // Same name as the installed crypttab's line: the kernel unpacks this file over the image's own.
  assert.equal(cpio(["-i", "--to-stdout", "cryptroot/crypttab"], tail).toString(), line);
  assert.equal(cpio(["-i", "--to-stdout", "etc/crypttab"], tail).toString(), line);
  assert.deepEqual(cpio(["-i", "--to-stdout", "secret.key"], tail), Buffer.from(key));
});
