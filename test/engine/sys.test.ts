// The QuickJS Sys (runtime/host/quickjs/sys.ts) inside a real static QuickJS binary:
// files, links, exec through pipes without deadlock, stdin input, statuses, devices.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { linkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { bundle } from "../../build/bundle.ts";
import { compileBinary } from "../../build/compile.ts";
import { repoRoot } from "../../build/paths.ts";

let work: string;
let report: Record<string, unknown>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "bootward-sys-"));
  const bundleFile = join(work, "probe.mjs");
  await bundle({ entry: join(repoRoot, "test/engine/fixtures/sys-probe.ts"), outFile: bundleFile });
  const binary = join(work, "probe");
  await compileBinary({ bundle: bundleFile, outFile: binary });
  const data = join(work, "data");
  spawnSync("mkdir", [data]);
  writeFileSync(join(data, "secret"), "JBSWY3DPEHPK3PXP");
  linkSync(join(data, "secret"), join(data, "witness"));
  const run = spawnSync(binary, [data], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, `probe failed: ${run.stderr}`);
  report = JSON.parse(run.stdout) as Record<string, unknown>;
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test("files, directories and links", () => {
  assert.equal(report.text, "héllo\n");
  assert.deepEqual(report.entries, ["b.txt", "link"]);
  assert.deepEqual(report.afterRemove, ["b.txt"]);
  const st = report.statFile as { kind: string; size: number; mode: number };
  assert.equal(st.kind, "file");
  assert.equal(st.size, Buffer.byteLength("héllo\n"));
  assert.equal(st.mode, 0o600);
  assert.equal(report.statLink, "symlink");
  assert.equal(report.statDir, "dir");
  assert.equal(report.statMissing, null);
  assert.equal(report.readlink, "b.txt");
  assert.equal(report.procSize, true, "a /proc file with st_size 0 must still be read in full");
});

test("wipeFile overwrites the file's own bytes with zeros before removing it", () => {
  assert.equal(report.wipedGone, null);
  assert.deepEqual(report.witness, new Array(16).fill(0), "the hard link still sees the secret, or a truncated inode");
});

test("failures are SysErrors that name the errno", () => {
  assert.match(String(report.readMissing), /^SysError: open .*nope: No such file or directory$/);
  assert.match(String(report.mkdirOverFile), /^SysError: mkdir .*: File exists$/);
  assert.match(String(report.missingProgram), /^SysError: exec: bootward-no-such-program not found in PATH$/);
});

test("exec reads 1 MiB on stdout and stderr at once without deadlock, and reports the status", () => {
  assert.equal(report.bigOut, 1048576);
  assert.equal(report.bigErr, 1048576);
  assert.equal(report.bigStatus, 3);
  assert.equal(report.killedStatus, 128 + 9);
});

test("exec feeds input through a pipe, adds env on top, honours cwd", () => {
  assert.equal(report.catSame, true);
  assert.equal(report.env, `yes|${join(work, "data")}`);
});

test("devices, random, env, clocks and console size", () => {
  assert.equal(report.deviceRead, "hé");
  assert.equal(report.random, 16);
  assert.equal(report.envPath, "string");
  assert.equal(report.slept, true);
  assert.deepEqual(report.size, { columns: 80, rows: 24 });
});
