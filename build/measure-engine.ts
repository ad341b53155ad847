// Compares the ways to build the binary: bytecode vs minified source, -O2 vs -Os engine,
// with and without "use strip". Prints raw size, xz size and the median start-up time of
// `<binary> <args>` over `runs` runs. Usage: tsx build/measure-engine.ts ENTRY [ARGS...]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bundle } from "./bundle.ts";
import { compileBinary, type CompileMode } from "./compile.ts";
import { buildDir } from "./paths.ts";
import type { EngineVariant } from "./quickjs.ts";

export interface Measurement {
  mode: CompileMode;
  variant: EngineVariant;
  strip: boolean;
  bytes: number;
  xzBytes: number;
  startMs: number;
  /** The fastest run: on a shared machine the median carries other jobs' noise. */
  startMinMs: number;
}

function startTimes(binary: string, args: string[], runs: number): { median: number; min: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(binary, args, { stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`${binary} ${args.join(" ")} exited with ${r.status}`);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

export async function measureEngines(entry: string, args: string[], runs = 15): Promise<Measurement[]> {
  const bundleFile = join(buildDir, "measure", "bundle.mjs");
  await bundle({ entry, outFile: bundleFile, minify: true });
  const matrix: [CompileMode, EngineVariant, boolean][] = [
    ["bytecode", "O2", true],
    ["bytecode", "O2", false],
    ["bytecode", "Os", true],
    ["source", "O2", true],
    ["source", "Os", true],
  ];
  const results: Measurement[] = [];
  for (const [mode, variant, strip] of matrix) {
    const out = join(buildDir, "measure", `bootward-${mode}-${variant}${strip ? "-strip" : ""}`);
    const { bytes, xzBytes } = await compileBinary({ bundle: bundleFile, outFile: out, mode, variant, strip });
    const start = startTimes(out, args, runs);
    results.push({ mode, variant, strip, bytes, xzBytes, startMs: start.median, startMinMs: start.min });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) throw new Error("usage: tsx build/measure-engine.ts ENTRY [ARGS...]");
  const rows = await measureEngines(entry, args);
  console.log("| mode | engine | use strip | raw bytes | xz bytes | median start (ms) | fastest (ms) |");
  console.log("|---|---|---|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.mode} | -${r.variant} | ${r.strip ? "yes" : "no"} | ${r.bytes} | ${r.xzBytes} | ${r.startMs.toFixed(1)} | ${r.startMinMs.toFixed(1)} |`);
  }
}
