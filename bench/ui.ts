// `npx tsx bench/ui.ts`: the UI's figures on the native binary, printed, never failed on.
// - first frame: process start → the main menu on a pty (socat gives the pty), with swtpm
//   behind a pty as the TPM, and without a TPM (the UI alone); goal ≤ 60 ms
// - key → redraw: Down arrow → the frame with the next item highlighted; goal ≤ 30 ms
// - bundle bytes the UI adds (ink, React, yoga, ui/) over the shims alone, minified and xz
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundle } from "../build/bundle.ts";
import { xzCompress } from "../initrd/compression.ts";
import { startSwtpmPty } from "../test/support/swtpm.ts";
import { makeRoot } from "../test/unit/flows/fixture.ts";

const repo = new URL("..", import.meta.url).pathname;
// BOOTWARD_BENCH_BINARY compares another build (say, the one before a change) under the same load.
const binary = process.env.BOOTWARD_BENCH_BINARY ?? join(repo, "dist/bootward");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;

interface Timing {
  firstFrame: number;
  keyRedraw: number;
}

// The highlighted menu line: "> d  Default boot".
const HIGHLIGHT = /^> (\S) {2}/m;

/** One run: spawn → "Boot Menu" on screen; Down → another item highlighted; then p. */
function once(root: string, tpm: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: "linux" };
    delete env.CI;
    const start = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - start) / 1e6;
    // EXEC splits its argument on spaces itself; no shell is involved.
    const child = spawn("socat", ["-", `EXEC:${binary} --root ${root} --tpm ${tpm} menu,pty,setsid,ctty,rawer`], { env, stdio: ["pipe", "pipe", "ignore"] });
    let screen = "";
    let firstFrame = 0;
    let keySent = 0;
    let keyRedraw = 0;
    let highlighted = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`bootward menu showed no main menu within 10 s: ${screen.replace(ANSI, "").slice(-500)}`));
    }, 10_000);
    child.stdout!.on("data", (d: Buffer) => {
      screen += d.toString("utf8");
      const text = screen.replace(ANSI, "");
      if (!firstFrame && text.includes("Boot Menu") && HIGHLIGHT.test(text)) {
        firstFrame = ms();
        highlighted = HIGHLIGHT.exec(text)![1]!;
        screen = "";
        // Let the first frame settle before timing a key.
        setTimeout(() => {
          keySent = ms();
          child.stdin!.write("\u001b[B");
        }, 200);
      } else if (keySent && !keyRedraw && HIGHLIGHT.exec(text) && HIGHLIGHT.exec(text)![1] !== highlighted) {
        keyRedraw = ms() - keySent;
        child.stdin!.write("p");
      }
    });
    child.once("exit", () => {
      clearTimeout(timer);
      if (firstFrame && keyRedraw) resolve({ firstFrame, keyRedraw });
      else reject(new Error(`bootward menu ended early: ${screen.replace(ANSI, "").slice(-500)}`));
    });
  });
}

async function uiBundleBytes(): Promise<{ min: number; xz: number }> {
  const dir = join(repo, ".build/bench-ui");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, "base.ts");
  const withUi = join(dir, "with-ui.ts");
  writeFileSync(base, `import "../../runtime/host/quickjs/shims.ts";\nconsole.log(1);\n`);
  writeFileSync(withUi, `import "../../runtime/host/quickjs/shims.ts";\nimport { createInkPrompt } from "../../ui/ink-prompt.tsx";\nimport { ScriptedPrompt } from "../../ui/scripted-prompt.ts";\nconsole.log(createInkPrompt, ScriptedPrompt);\n`);
  const a = await bundle({ entry: base, outFile: join(dir, "base.mjs") });
  const b = await bundle({ entry: withUi, outFile: join(dir, "with-ui.mjs") });
  const { readFileSync } = await import("node:fs");
  const xa = xzCompress(readFileSync(join(dir, "base.mjs"))).length;
  const xb = xzCompress(readFileSync(join(dir, "with-ui.mjs"))).length;
  rmSync(dir, { recursive: true, force: true });
  return { min: b.bytes - a.bytes, xz: xb - xa };
}

async function main(): Promise<void> {
  if (!existsSync(binary)) {
    console.log(`ui bench: ${binary} is missing; build it with npx tsx build.ts --no-initrd`);
    return;
  }
  const root = makeRoot();
  const runs = 7;
  try {
    const noTpm: Timing[] = [];
    for (let i = 0; i < runs; i++) noTpm.push(await once(root, join(root, "no-tpm")));
    const swtpm = await startSwtpmPty();
    const withTpm: Timing[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        await swtpm.ready();
        withTpm.push(await once(root, swtpm.device));
      }
    } finally {
      await swtpm.stop();
    }
    const line = (label: string, xs: Timing[]) =>
      console.log(`${label.padEnd(34)} first frame ${median(xs.map((t) => t.firstFrame)).toFixed(1)} ms (goal ≤ 60), key → redraw ${median(xs.map((t) => t.keyRedraw)).toFixed(1)} ms (goal ≤ 30), median of ${xs.length}`);
    line("menu, no TPM (UI alone)", noTpm);
    line("menu, swtpm pty (TPM read at start)", withTpm);
  } catch (error) {
    console.log(`ui bench: ${(error as Error).message}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  try {
    const ui = await uiBundleBytes();
    console.log(`${"bundle bytes the UI adds".padEnd(34)} ${kib(ui.min)} minified, ${kib(ui.xz)} xz`);
  } catch (error) {
    console.log(`ui bench: bundle size not measured: ${(error as Error).message}`);
  }
}

await main();
