// `npm run bench`: the figures DESIGN.md budgets, measured on this machine and printed.
// Benchmarks measure; they never fail a build on time. Needs `npm run build` (done first).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kernelImage } from "../initrd/image.ts";
import { xzCompress } from "../initrd/compression.ts";
import { startQemu } from "../initrd/qemu/board.ts";
import { BENCH_TOOLS, ensureTools } from "../initrd/host-tools.ts";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function step(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed`);
}

function timeCommand(argv: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}`);
  }
  return median(times);
}

async function qemuToFirstScreen(): Promise<number> {
  const stateDir = mkdtempSync(join(tmpdir(), "bootward-bench-"));
  const kernel = await kernelImage();
  const qemu = await startQemu({ board: "qemu-tpm2", kernel: kernel.path, initramfs: join(dist, "initramfs-qemu-tpm2.cpio.xz"), stateDir });
  try {
    // The status header tops every first screen: the main menu, or the ownership offer on this unowned board.
    await qemu.waitFor(/TOTP: .* \| HOTP: /, 300_000);
    return qemu.elapsedMs();
  } finally {
    await qemu.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  ensureTools(BENCH_TOOLS);
  step(["npx", "tsx", "build.ts"]);
  // Nothing changed since the build above: DESIGN.md budgets this at 5 s.
  const noOpBuild = timeCommand(["npx", "tsx", "build.ts"], 1);
  const binary = join(dist, "bootward");
  const raw = statSync(binary).size;
  const xz = xzCompress(readFileSync(binary)).length;
  const initramfs = statSync(join(dist, "initramfs-qemu-tpm2.cpio.xz")).size;
  const version = timeCommand([binary, "--version"], 21);
  const selftest = timeCommand([binary, "selftest"], 11);
  const firstScreen = await qemuToFirstScreen();
  console.log(
    [
      "",
      "bootward bench (budgets from DESIGN.md)",
      `  binary                     ${kib(raw)} raw (≤ 3072 KiB), ${kib(xz)} xz (≤ 900 KiB)`,
      `  initramfs (qemu-tpm2)      ${kib(initramfs)} xz`,
      `  cold start, --version      ${version.toFixed(1)} ms median of 21`,
      `  cold start, selftest       ${selftest.toFixed(1)} ms median of 11`,
      `  no-op npm run build        ${(noOpBuild / 1000).toFixed(1)} s (≤ 5 s)`,
      `  QEMU start → first screen  ${(firstScreen / 1000).toFixed(1)} s (TCG; reported, not budgeted)`,
      "",
    ].join("\n"),
  );
  step(["npx", "tsx", "bench/tpm.ts"]);
  step(["npx", "tsx", "bench/disk-key.ts"]);
  step(["npx", "tsx", "bench/boot.ts"]);
  step(["npx", "tsx", "bench/engines.ts"]);
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
