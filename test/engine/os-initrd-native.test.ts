// The shipped binary reads an OS initrd's crypttab as the disk key setup does: zstd through
// the JS decoder on QuickJS, gzip and xz through the tools, each past an uncompressed early
// archive. `bootward disk crypttab` prints the overrides the setup would sign.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { repoRoot } from "../../build/paths.ts";
import { writeCpio } from "../../lib/cpio.ts";

const binary = join(repoRoot, "dist/bootward");
let dir: string;
before(() => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npm run build`);
  dir = mkdtempSync(join(tmpdir(), "bootward-os-initrd-native-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const enc = (s: string) => new TextEncoder().encode(s);
const early = writeCpio([{ type: "file", path: "kernel/x86/microcode/AuthenticAMD.bin", mode: 0o644, data: new Uint8Array(3000) }]);
// Enough bytes that the decoders work through many blocks, not one.
const bulk = new Uint8Array(4 << 20).map((_, i) => (i * 2654435761) >>> 24);
const main = writeCpio([
  { type: "file", path: "cryptroot/crypttab", mode: 0o644, data: enc("nvme0n1p3_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a none luks,discard\n") },
  { type: "file", path: "lib/modules/bulk.ko", mode: 0o644, data: bulk },
]);

for (const [name, argv] of [["zstd", ["zstd", "-q", "-c"]], ["gzip", ["gzip", "-c", "-n"]], ["xz", ["xz", "-c", "--check=crc32"]]] as const) {
  test(`${name}: the binary prints the crypttab override Heads' kexec-save-default would write`, () => {
    const path = join(dir, `initrd.${name}`);
    writeFileSync(path, Buffer.concat([early, execFileSync(argv[0], argv.slice(1), { input: main })]));
    const run = spawnSync(binary, ["disk", "crypttab", path], { encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), "/cryptroot/crypttab:nvme0n1p3_crypt UUID=0a1b2c3d-0000-4000-8000-00000000000a /secret.key luks,discard");
  });
}

test("a damaged zstd stream is refused with a sentence, not a crash", () => {
  const path = join(dir, "initrd.damaged");
  const packed = execFileSync("zstd", ["-q", "-c"], { input: main });
  packed.fill(0x41, 40, 200);
  writeFileSync(path, packed);
  const run = spawnSync(binary, ["disk", "crypttab", path], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.status, 1, run.stdout);
  // fzstd does not check zstd's content checksum, so damage may surface as a broken cpio instead.
  assert.match(run.stderr, /^bootward: The (zstd archive in the )?OS initrd .* could not be (decompressed|read)/m);
});
