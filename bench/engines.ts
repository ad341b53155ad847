// `npx tsx bench/engines.ts` (part of `npm run bench`): the firmware built with each pinned
// QuickJS (build/quickjs.ts) from the same bundle, measured by the same benches — size, then
// bench/ui.ts (first frame, key → redraw) and bench/boot.ts (`boot verify`) with
// BOOTWARD_BENCH_BINARY pointing at that build — so the default engine stays a measured choice.
// The other engines' binaries go to .build/engines/, never to dist/.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { compileBinary } from "../build/compile.ts";
import { buildDir, repoRoot } from "../build/paths.ts";
import { DEFAULT_ENGINE, QUICKJS_ENGINES, type EngineVersion } from "../build/quickjs.ts";
import { xzCompress } from "../initrd/compression.ts";

const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const bundle = join(repoRoot, "dist/bootward.mjs");

async function binaryFor(engine: EngineVersion): Promise<string> {
  if (engine === DEFAULT_ENGINE) return join(repoRoot, "dist/bootward");
  const dir = join(buildDir, "engines", engine);
  mkdirSync(dir, { recursive: true });
  const outFile = join(dir, "bootward");
  await compileBinary({ bundle, outFile, engine });
  return outFile;
}

for (const engine of Object.keys(QUICKJS_ENGINES) as EngineVersion[]) {
  console.log(`\n== QuickJS ${engine}${engine === DEFAULT_ENGINE ? " (the default: shipped)" : ""}`);
  let binary: string;
  try {
    binary = await binaryFor(engine);
  } catch (error) {
    console.log(`  not built: ${error instanceof Error ? error.message : String(error)}`);
    continue;
  }
  console.log(`  binary ${kib(statSync(binary).size)} raw (≤ 3072 KiB), ${kib(xzCompress(readFileSync(binary)).length)} xz (≤ 900 KiB)`);
  for (const bench of ["bench/ui.ts", "bench/boot.ts"]) {
    const r = spawnSync("npx", ["tsx", bench], { cwd: repoRoot, stdio: "inherit", env: { ...process.env, BOOTWARD_BENCH_BINARY: binary } });
    if (r.status !== 0) console.log(`  ${bench} failed with this engine (status ${r.status})`);
  }
}
