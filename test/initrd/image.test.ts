import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildInitramfs, initramfsEntries, kernelImage, ImageError } from "../../initrd/image.ts";
import { BoardError, getBoard } from "../../initrd/boards.ts";
import { elfDeps } from "../../initrd/elf.ts";
import { buildStandinInit } from "./standin.ts";

let dir = "";
let standin = "";
let first = "";
let tree = "";
let release = "";

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "bootward-image-"));
  standin = buildStandinInit();
  release = (await kernelImage()).version;
  first = (await buildInitramfs({ board: "qemu-tpm2", bootwardBinary: standin, outFile: join(dir, "a", "initramfs.cpio.xz") })).path;
  tree = join(dir, "tree");
  mkdirSync(tree);
  const cpio = execFileSync("xz", ["-dc", first], { maxBuffer: 1 << 30 });
  // Device nodes need root to create; everything else is compared as files.
  execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames", "-f", "dev/console", "dev/null"], { cwd: tree, input: cpio });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("two builds of the same board and /init are byte-identical", async () => {
  const second = await buildInitramfs({ board: "qemu-tpm2", bootwardBinary: standin, outFile: join(dir, "b", "initramfs.cpio.xz") });
  const a = readFileSync(first);
  const b = readFileSync(second.path);
  assert.equal(second.bytes, b.length);
  assert.ok(a.equals(b), "the two initramfs images differ");
  assert.equal(a.subarray(0, 6).toString("latin1"), "\xfd7zXZ\0");
});

test("GNU cpio lists /init, busybox, kexec, cryptsetup, the loader, modules.dep and /etc/config", () => {
  const archive = execFileSync("xz", ["-dc", first], { maxBuffer: 1 << 30 });
  const listing = execFileSync("cpio", ["-itv", "--quiet"], { input: archive, encoding: "utf8", maxBuffer: 1 << 26 });
  // perms links owner group (size | major, minor) month day year name[ -> target]
  const row = /^\S+\s+\d+\s+\S+\s+\S+\s+(?:\d+,\s+\d+|\d+)\s+\S+\s+\d+\s+\d+\s+(.*)$/;
  const names = new Set(listing.trim().split("\n").map((l) => (row.exec(l)?.[1] ?? l).split(" -> ")[0]));
  for (const n of [
    "init", "bin/busybox", "bin/sh", "bin/modprobe", "bin/poweroff", "bin/sha256sum", "bin/cttyhack",
    "sbin/kexec", "sbin/cryptsetup", "sbin/modprobe", "lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6",
    `lib/modules/${release}/modules.dep`, "etc/config", "etc/modules", "dev/console",
    "dev", "proc", "sys", "tmp", "boot", "mnt", "run", "root",
  ]) {
    assert.ok(names.has(n), `missing ${n}`);
  }
  assert.match(listing, /^crw------- .* 5, +1 .* dev\/console$/m);
  assert.match(listing, /^crw-rw-rw- .* 1, +3 .* dev\/null$/m);
  assert.match(listing, /^-rwxr-xr-x .* init$/m);
  assert.match(listing, /^drwxrwxrwt .* tmp$/m);
  for (const line of listing.trim().split("\n")) assert.match(line, /^\S+\s+\d+ root\s+root /, line);
  assert.deepEqual(new Uint8Array(readFileSync(join(tree, "init"))), new Uint8Array(readFileSync(standin)));
});

test("every library kexec, cryptsetup, blkid and lvm need (transitively) is inside, under the loader's path", () => {
  const seen = new Set<string>();
  const queue = ["sbin/kexec", "sbin/cryptsetup", "sbin/blkid", "sbin/lvm"].map((t) => join(tree, t));
  while (queue.length > 0) {
    const f = queue.shift()!;
    const deps = elfDeps(f);
    if (f.endsWith("sbin/kexec")) assert.equal(deps.interpreter, "/lib64/ld-linux-x86-64.so.2");
    for (const so of deps.needed) {
      if (seen.has(so)) continue;
      seen.add(so);
      const lib = join(tree, "lib/x86_64-linux-gnu", so);
      assert.ok(existsSync(lib), `${so} is not in /lib/x86_64-linux-gnu`);
      queue.push(lib);
    }
  }
  assert.ok(seen.has("libcrypto.so.3") && seen.has("libxenctrl.so.4.17"), [...seen].join(" "));
  assert.ok(existsSync(join(tree, "lib64/ld-linux-x86-64.so.2")), "the loader symlink does not resolve");
});

test("lvm runs from the image's own libraries (libsystemd.so.0 from libelogind0), with the firmware's udev-less lvm.conf", () => {
  const libs = join(tree, "lib/x86_64-linux-gnu");
  // Every symbol bound at start: a version libelogind0's libsystemd lacks would stop lvm here.
  const out = execFileSync(join(libs, "ld-linux-x86-64.so.2"), ["--library-path", libs, join(tree, "sbin/lvm"), "version"], {
    encoding: "utf8", env: { LD_BIND_NOW: "1", LVM_SYSTEM_DIR: join(tree, "etc/lvm") },
  });
  assert.match(out, /LVM version:\s+2\.03\./);
  const conf = readFileSync(join(tree, "etc/lvm/lvm.conf"), "utf8");
  for (const setting of [/obtain_device_list_from_udev = 0/, /udev_sync = 0/, /udev_rules = 0/, /monitoring = 0/]) assert.match(conf, setting);
});

test("a board without lvm carries neither the tool, its libraries nor its config", () => {
  const init = new Uint8Array(readFileSync(standin));
  const paths = (lvm: boolean) => new Set(initramfsEntries({ ...getBoard("qemu-tpm2"), lvm }, init).map((e) => e.path));
  const without = paths(false);
  const withLvm = paths(true);
  for (const p of ["sbin/lvm", "etc/lvm/lvm.conf", "lib/x86_64-linux-gnu/libedit.so.2", "lib/x86_64-linux-gnu/libdevmapper-event.so.1.02.1"]) {
    assert.ok(withLvm.has(p), `the lvm board lacks ${p}`);
    assert.ok(!without.has(p), `the board without lvm carries ${p}`);
  }
  assert.ok(without.has("sbin/cryptsetup") && without.has("lib/x86_64-linux-gnu/libdevmapper.so.1.02.1"), "cryptsetup and its libraries stay");
});

test("the board's modules are there in load order, with a depmod index that knows their dependencies", () => {
  const board = getBoard("qemu-tpm2");
  assert.equal(readFileSync(join(tree, "etc/modules"), "utf8"), board.modules.map((m) => m + "\n").join(""));
  const dep = readFileSync(join(tree, `lib/modules/${release}/modules.dep`), "utf8");
  assert.match(dep, /^kernel\/drivers\/block\/virtio_blk\.ko: .*kernel\/drivers\/virtio\/virtio\.ko/m);
  assert.match(dep, /^kernel\/fs\/ext4\/ext4\.ko: .*jbd2\.ko/m);
  assert.match(dep, /^kernel\/drivers\/md\/dm-crypt\.ko: kernel\/drivers\/md\/dm-mod\.ko$/m);
  assert.equal(dep.trim().split("\n").length, board.modules.length);
});

test("/etc/config is Heads' export format and the two QEMU boards differ only in the TPM", () => {
  const config = readFileSync(join(tree, "etc/config"), "utf8");
  for (const line of config.trim().split("\n")) assert.match(line, /^export CONFIG_[A-Z0-9_]+="[^"]*"$/);
  assert.match(config, /^export CONFIG_BOARD="qemu-tpm2"$/m);
  assert.match(config, /^export CONFIG_TPM2_TOOLS="y"$/m);
  const init = new Uint8Array(4);
  const tpm1 = initramfsEntries("qemu-tpm1", init).find((e) => e.path === "etc/config");
  assert.ok(tpm1 && tpm1.type === "file");
  const text = new TextDecoder().decode(tpm1.data);
  assert.match(text, /^export CONFIG_TPM2_TOOLS="n"$/m);
  assert.match(text, /^export CONFIG_BOARD="qemu-tpm1"$/m);
  assert.equal(getBoard("qemu-tpm1").cmdline, getBoard("qemu-tpm2").cmdline);
  assert.deepEqual(getBoard("qemu-tpm1").modules, getBoard("qemu-tpm2").modules);
});

test("an unknown board or a missing /init binary stops with a typed error and writes nothing", async () => {
  const out = join(dir, "bad", "x.cpio.xz");
  await assert.rejects(buildInitramfs({ board: "qemu-tpm3", bootwardBinary: standin, outFile: out }), BoardError);
  await assert.rejects(buildInitramfs({ board: "qemu-tpm2", bootwardBinary: join(dir, "nope"), outFile: out }), ImageError);
  assert.ok(!existsSync(out));
});
