// Two clean builds give byte-identical outputs: the checkout is copied to another path with no
// .build/ or dist/, built from scratch, and compared with this checkout's dist/. Only the pinned
// downloads (.cache/, checked by hash on use) and node_modules are shared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createHash } from "node:crypto";

const root = new URL("../../", import.meta.url).pathname;
const outputs = ["dist/bootward", "dist/initramfs-qemu-tpm2.cpio.xz"];
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

test("a clean build at another path is byte-identical (binary and initramfs)", { timeout: 900_000 }, () => {
  const copy = mkdtempSync(join(tmpdir(), "bootward-repro-"));
  try {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .split("\0")
      .filter((f) => f !== "");
    for (const file of files) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(join(root, file), join(copy, file));
    }
    symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
    symlinkSync(join(root, ".cache"), join(copy, ".cache"));
    execFileSync("npx", ["tsx", "build.ts", "--board", "qemu-tpm2"], { cwd: copy, stdio: "inherit" });
    for (const output of outputs) {
      assert.equal(sha256(join(copy, output)), sha256(join(root, output)), `${output} differs between two clean builds`);
    }
    assert.equal(readFileSync(join(copy, "dist/bootward")).includes(Buffer.from(copy)), false, "the build path leaked into the binary");
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
