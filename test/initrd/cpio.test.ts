import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, lstatSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeCpio, CpioError, type CpioEntry } from "../../lib/cpio.ts";

const binary = new Uint8Array(1027).map((_, i) => (i * 31 + 7) & 0xff);
const entries: CpioEntry[] = [
  { type: "file", path: "init", mode: 0o755, data: binary },
  { type: "symlink", path: "bin/sh", target: "busybox" },
  { type: "file", path: "bin/busybox", mode: 0o755, data: new TextEncoder().encode("#!fake\n") },
  { type: "file", path: "etc/config", mode: 0o644, data: new TextEncoder().encode('export CONFIG_X="y"\n') },
  { type: "file", path: "etc/empty", mode: 0o600, data: new Uint8Array(0) },
  { type: "dir", path: "tmp", mode: 0o1777 },
  { type: "dir", path: "dev", mode: 0o755 },
  { type: "symlink", path: "lib64/ld-linux-x86-64.so.2", target: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" },
];

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "bootward-cpio-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("two writes of the same entries are byte-identical, whatever the input order", () => {
  const a = writeCpio(entries);
  const b = writeCpio([...entries].reverse());
  assert.deepEqual(Buffer.from(a), Buffer.from(b));
  assert.equal(a.length % 4, 0);
});

test("GNU cpio lists the names, types, modes and owners that were written", () =>
  withTemp((dir) => {
    const archive = join(dir, "a.cpio");
    writeFileSync(archive, writeCpio(entries));
    const listing = execFileSync("cpio", ["-itv", "--quiet", "-F", archive], { encoding: "utf8" })
      .trim()
      .split("\n");
    const rows = listing.map((line) => {
      const f = line.split(/\s+/);
      return { perms: f[0], owner: `${f[2]}:${f[3]}`, rest: f.slice(8).join(" ") };
    });
    assert.deepEqual(
      rows.map((r) => r.rest),
      [
        "bin",
        "bin/busybox",
        "bin/sh -> busybox",
        "dev",
        "etc",
        "etc/config",
        "etc/empty",
        "init",
        "lib64",
        "lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "tmp",
      ],
    );
    const perms = Object.fromEntries(rows.map((r) => [r.rest.split(" ")[0], r.perms]));
    assert.equal(perms["bin"], "drwxr-xr-x");
    assert.equal(perms["init"], "-rwxr-xr-x");
    assert.equal(perms["etc/empty"], "-rw-------");
    assert.equal(perms["tmp"], "drwxrwxrwt");
    assert.equal(perms["bin/sh"], "lrwxrwxrwx");
    for (const r of rows) assert.equal(r.owner, "root:root");
  }));

test("GNU cpio extracts exactly the bytes, modes and symlink targets that were written", () =>
  withTemp((dir) => {
    const archive = join(dir, "a.cpio");
    const out = join(dir, "out");
    writeFileSync(archive, writeCpio(entries));
    mkdirSync(out);
    execFileSync("cpio", ["-idm", "--quiet", "--no-absolute-filenames", "-F", archive], { cwd: out });
    assert.deepEqual(new Uint8Array(readFileSync(join(out, "init"))), binary);
    assert.equal(readFileSync(join(out, "etc/config"), "utf8"), 'export CONFIG_X="y"\n');
    assert.equal(readFileSync(join(out, "etc/empty")).length, 0);
    assert.equal(readlinkSync(join(out, "bin/sh")), "busybox");
    assert.equal(readlinkSync(join(out, "lib64/ld-linux-x86-64.so.2")), "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    assert.equal(lstatSync(join(out, "init")).mode & 0o7777, 0o755);
    assert.equal(lstatSync(join(out, "etc/empty")).mode & 0o7777, 0o600);
    assert.equal(lstatSync(join(out, "tmp")).mode & 0o7777, 0o1777);
    assert.equal(lstatSync(join(out, "init")).mtimeMs, 0);
  }));

test("unsafe or malformed paths are refused with a CpioError", () => {
  const bad = ["/etc/passwd", "../escape", "bin/../../x", "a//b", "./init", "", "bin/"];
  for (const path of bad) {
    assert.throws(() => writeCpio([{ type: "file", path, mode: 0o644, data: new Uint8Array(1) }]), CpioError, path);
  }
});

test("duplicate paths, a file used as a directory and bad modes are refused", () => {
  const f = (path: string): CpioEntry => ({ type: "file", path, mode: 0o644, data: new Uint8Array(0) });
  assert.throws(() => writeCpio([f("a"), f("a")]), CpioError);
  assert.throws(() => writeCpio([f("a"), f("a/b")]), CpioError);
  assert.throws(() => writeCpio([{ type: "file", path: "x", mode: 0o10000, data: new Uint8Array(0) }]), CpioError);
  assert.throws(() => writeCpio([{ type: "symlink", path: "x", target: "" }]), CpioError);
});

test("a character device node (only /dev/console is needed) is listed with its major and minor", () =>
  withTemp((dir) => {
    const archive = join(dir, "c.cpio");
    writeFileSync(archive, writeCpio([{ type: "chardev", path: "dev/console", mode: 0o600, major: 5, minor: 1 }]));
    const listing = execFileSync("cpio", ["-itv", "--quiet", "-F", archive], { encoding: "utf8" }).trim().split("\n");
    assert.equal(listing.length, 2);
    assert.match(listing[0]!, /^drwxr-xr-x .* dev$/);
    assert.match(listing[1]!, /^crw------- +1 root +root +5, +1 .* dev\/console$/);
    assert.throws(() => writeCpio([{ type: "chardev", path: "dev/x", mode: 0o600, major: -1, minor: 0 }]), CpioError);
  }));
