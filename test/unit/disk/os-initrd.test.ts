// Reading an OS initrd's crypttab as Heads' kexec-save-default does, on archives made by the
// real compressors: an uncompressed early cpio followed by a zstd, gzip, xz or lzma one (the
// later archive wins, as the kernel unpacks them); the overrides keep each entry's name and
// point only key-less entries at /secret.key; damaged, truncated and unreadable initrds are
// refused with a sentence, and a crypttab line Heads' file cannot hold is refused too.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { writeCpio, type CpioEntry } from "../../../lib/cpio.ts";
import { osInitrdFiles, OsInitrdError } from "../../../runtime/disk/os-initrd.ts";
import { formatOverrides, initrdCrypttabOverrides, KeyInitrdError, parseOverrides } from "../../../runtime/disk/key-initrd.ts";

const sys = createNodeSys();
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "bootward-os-initrd-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const enc = (s: string) => new TextEncoder().encode(s);
const file = (path: string, text: string): CpioEntry => ({ type: "file", path, mode: 0o644, data: enc(text) });
const early = writeCpio([file("kernel/x86/microcode/GenuineIntel.bin", "microcode"), file("etc/crypttab", "stale_crypt UUID=x none luks\n")]);
const CRYPTTAB = [
  "# <target name> <source device> <key file> <options>",
  "",
  "vda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a none luks,discard",
  "swap_crypt\tUUID=0a1b2c3d-0000-4000-8000-00000000000b\t-\tluks",
  "data_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000c /etc/keys/data.key luks",
  "",
].join("\n");
const main = writeCpio([file("cryptroot/crypttab", CRYPTTAB), file("etc/crypttab", "vda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a none luks,discard\n"), file("init", "#!/bin/sh\n")]);

function initrd(name: string, compressor: string[] | null): string {
  const path = join(dir, name);
  const packed = compressor === null ? main : execFileSync(compressor[0]!, compressor.slice(1), { input: main });
  // Padding between archives, as the kernel and mkinitramfs allow.
  writeFileSync(path, Buffer.concat([early, Buffer.alloc(512 - (early.length % 512)), packed]));
  return path;
}

for (const [name, compressor] of [["zstd", ["zstd", "-q", "-c", "-19"]], ["gzip", ["gzip", "-c", "-n"]], ["xz", ["xz", "-c", "--check=crc32"]], ["lzma", ["xz", "-c", "--format=lzma"]], ["uncompressed", null]] as const) {
  test(`${name}: the crypttabs are read past the early archive, the later one winning`, async () => {
    const files = await osInitrdFiles(sys, initrd(`${name}.img`, compressor ? [...compressor] : null), (p) => p.includes("crypttab"));
    assert.deepEqual([...files.keys()].sort(), ["cryptroot/crypttab", "etc/crypttab"]);
    assert.equal(new TextDecoder().decode(files.get("cryptroot/crypttab")!.data), CRYPTTAB);
    assert.match(new TextDecoder().decode(files.get("etc/crypttab")!.data), /^vda2_crypt /, "the main archive's etc/crypttab replaces the early one's");
  });
}

test("overrides keep each volume's name and options, point key-less entries at /secret.key, and round-trip through Heads' file format", async () => {
  const overrides = await initrdCrypttabOverrides(sys, initrd("o.img", ["zstd", "-q", "-c"]));
  assert.deepEqual(overrides, [
    { path: "cryptroot/crypttab", line: "vda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a /secret.key luks,discard" },
    { path: "cryptroot/crypttab", line: "swap_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000b /secret.key luks" },
    { path: "cryptroot/crypttab", line: "data_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000c /etc/keys/data.key luks" },
    { path: "etc/crypttab", line: "vda2_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a /secret.key luks,discard" },
  ]);
  const text = formatOverrides(overrides);
  assert.match(text, /^\/cryptroot\/crypttab:vda2_crypt UUID=\S+ \/secret\.key luks,discard$/m);
  assert.deepEqual(parseOverrides(text), overrides);
});

test("an initrd without a crypttab gives no overrides (the boot writes Heads' generic lines)", async () => {
  const path = join(dir, "none.img");
  writeFileSync(path, execFileSync("gzip", ["-c", "-n"], { input: writeCpio([file("init", "#!/bin/sh\n")]) }));
  assert.deepEqual(await initrdCrypttabOverrides(sys, path), []);
});

test("refused with a sentence: bzip2, a damaged zstd stream, a truncated cpio, garbage, a crypttab line with a colon or without a device", async () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["bzip2.img", execFileSync("bzip2", ["-c"], { input: main }), /compressed with bzip2, which bootward cannot read; rebuild it with zstd, gzip or xz/],
    ["damaged.img", Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 0x55)]), /zstd archive in the OS initrd .* could not be decompressed/],
    ["truncated.img", main.subarray(0, main.length - 200), /ends before its trailer|runs past the end/],
    ["garbage.img", enc("not an initrd at all"), /holds something other than a cpio archive at byte 0/],
  ];
  for (const [name, bytes, message] of cases) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    await assert.rejects(osInitrdFiles(sys, path, () => true), (e: unknown) => e instanceof OsInitrdError && message.test(e.message), name);
  }
  const colon = join(dir, "colon.img");
  writeFileSync(colon, writeCpio([file("etc/crypttab", "root_crypt /dev/disk/by-path/pci-0000:00:04.0-part2 none luks\n")]));
  await assert.rejects(initrdCrypttabOverrides(sys, colon), (e: unknown) => e instanceof KeyInitrdError && /has an entry with a colon/.test(e.message));
  const nameOnly = join(dir, "name-only.img");
  writeFileSync(nameOnly, writeCpio([file("cryptroot/crypttab", "root_crypt\n")]));
  await assert.rejects(initrdCrypttabOverrides(sys, nameOnly), (e: unknown) => e instanceof KeyInitrdError && /cryptroot\/crypttab in the OS initrd .* has an entry without a device \("root_crypt"\)/.test(e.message));
});
