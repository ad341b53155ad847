// Measured module loading on swtpm: each module file is extended into PCR 5 before insmod
// runs, in /etc/modules' order, and recorded; a module the TPM could not measure is not
// loaded. insmod here is a stand-in on PATH that records its argument (loading into the
// test machine's own kernel is not an option); the QEMU boots load the real modules.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import { loadMeasuredModules, MODULE_PCR } from "../../../runtime/pid1/modules.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";

const sys = createNodeSys();
let sw: Swtpm;
let dir: string;

before(async () => {
  sw = await startSwtpm("2.0");
  dir = mkdtempSync(join(tmpdir(), "bootward-modules-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "insmod"), `#!/bin/sh\necho "$1" >> "${join(dir, "insmod.log")}"\n`);
  chmodSync(join(dir, "bin", "insmod"), 0o755);
  process.env.PATH = `${join(dir, "bin")}:${process.env.PATH}`;
  const mods = join(dir, "lib");
  mkdirSync(join(mods, "kernel", "fs"), { recursive: true });
  writeFileSync(join(mods, "kernel", "fs", "jbd2.ko"), "jbd2 module bytes");
  writeFileSync(join(mods, "kernel", "fs", "ext4.ko"), "ext4 module bytes");
  writeFileSync(join(mods, "kernel", "fs", "dm-crypt.ko"), "dm-crypt module bytes");
  writeFileSync(join(mods, "modules.dep"), "kernel/fs/jbd2.ko:\nkernel/fs/ext4.ko: kernel/fs/jbd2.ko\nkernel/fs/dm-crypt.ko:\n");
  writeFileSync(join(mods, "modules.builtin"), "kernel/crypto/crc32c_generic.ko\n");
});
after(async () => {
  await sw.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (...parts: (Buffer | string | Uint8Array)[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest();

test("each module is extended into PCR 5 in order before insmod loads it; the record names each one", async () => {
  const mods = join(dir, "lib");
  const record = join(dir, "record.txt");
  rmSync(join(dir, "insmod.log"), { force: true });
  const { before, after, result } = await sw.withTpm(async (tpm) => {
    const before = (await tpm.pcrRead([MODULE_PCR])).get(MODULE_PCR)!;
    const result = await loadMeasuredModules(sys, tpm, ["jbd2", "ext4", "crc32c-generic", "dm-crypt", "nowhere"], mods, record);
    return { before, after: (await tpm.pcrRead([MODULE_PCR])).get(MODULE_PCR)!, result };
  });
  assert.deepEqual(result.loaded, ["jbd2", "ext4", "dm-crypt"]);
  assert.deepEqual(result.problems, [`kernel module nowhere is not in ${mods}`]);
  let expected = Buffer.from(before);
  for (const f of ["jbd2.ko", "ext4.ko", "dm-crypt.ko"]) expected = sha256(expected, sha256(readFileSync(join(mods, "kernel", "fs", f))));
  assert.deepEqual(Buffer.from(after), expected, "PCR 5 = the replay of the three module files in order");
  assert.deepEqual(readFileSync(join(dir, "insmod.log"), "utf8").trim().split("\n"), ["jbd2.ko", "ext4.ko", "dm-crypt.ko"].map((f) => join(mods, "kernel", "fs", f)));
  assert.deepEqual(readFileSync(record, "utf8").trim().split("\n").map((l) => l.split("  ")[1]), ["jbd2.ko", "ext4.ko", "dm-crypt.ko"].map((f) => join(mods, "kernel", "fs", f)));
  // A changed module moves PCR 5 to another value.
  writeFileSync(join(mods, "kernel", "fs", "ext4.ko"), "ext4 module bytes, patched");
  const moved = await sw.withTpm(async (tpm) => {
    await loadMeasuredModules(sys, tpm, ["ext4"], mods, record);
    return (await tpm.pcrRead([MODULE_PCR])).get(MODULE_PCR)!;
  });
  assert.notDeepEqual(Buffer.from(moved), sha256(after, sha256("ext4 module bytes")));
});

test("a module the TPM cannot measure is not loaded; without a TPM modules load and the screen says they were not measured", async () => {
  const mods = join(dir, "lib");
  rmSync(join(dir, "insmod.log"), { force: true });
  const closed = await sw.withTpm(async (tpm) => tpm);
  const failed = await loadMeasuredModules(sys, closed, ["jbd2"], mods, join(dir, "r2.txt"));
  assert.deepEqual(failed.loaded, []);
  assert.match(failed.problems[0]!, /^kernel module jbd2 was not loaded: it could not be measured into PCR 5/);
  assert.throws(() => readFileSync(join(dir, "insmod.log")), /ENOENT/, "insmod never ran");
  const elsewhere = await loadMeasuredModules(sys, null, ["jbd2"], join(dir, "no-such-kernel"), join(dir, "r4.txt"));
  assert.deepEqual(elsewhere.problems, [`no kernel module was loaded: ${join(dir, "no-such-kernel")}/modules.dep is missing (the initramfs was built for another kernel)`]);
  const none = await loadMeasuredModules(sys, null, ["jbd2"], mods, join(dir, "r3.txt"));
  assert.deepEqual(none.loaded, ["jbd2"]);
  assert.deepEqual(none.problems, ["no TPM: kernel modules were loaded without being measured into PCR 5"]);
});

test("on TPM 1.2 the SHA-1 of each module is extended, as Heads' insmod does there", async () => {
  const mods = join(dir, "lib");
  const sw12 = await startSwtpm("1.2");
  try {
    const sha1 = (...parts: (Buffer | Uint8Array)[]) => parts.reduce((h, p) => h.update(p), createHash("sha1")).digest();
    const { before, after } = await sw12.withTpm(async (tpm) => {
      const before = (await tpm.pcrRead([MODULE_PCR])).get(MODULE_PCR)!;
      await loadMeasuredModules(sys, tpm, ["jbd2", "dm-crypt"], mods, join(dir, "r12.txt"));
      return { before, after: (await tpm.pcrRead([MODULE_PCR])).get(MODULE_PCR)! };
    });
    let expected = Buffer.from(before);
    for (const f of ["jbd2.ko", "dm-crypt.ko"]) expected = sha1(expected, sha1(readFileSync(join(mods, "kernel", "fs", f))));
    assert.deepEqual(Buffer.from(after), expected);
    assert.match(readFileSync(join(dir, "r12.txt"), "utf8"), /^[0-9a-f]{40} {2}\S+jbd2\.ko\n/);
  } finally {
    await sw12.stop();
  }
});
