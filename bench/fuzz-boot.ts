// The long fuzz run of the boot-entry parsers (npm test runs 50 000 inputs per parser):
//   npx tsx bench/fuzz-boot.ts [--count N] [--seed S] [--only grub|syslinux|bls|heads-line]
// N inputs per parser (default 1 000 000), in chunks with a fresh seed each, so a failure
// names the seed and index that replay it. Exits 1 on the first input that throws anything
// but a BootConfigError or yields an entry that does not survive Heads' line format. It
// cannot see its own hang; `npm run fuzz` (bench/fuzz-all.ts) watches its progress lines.
import { fuzz, parsers } from "../test/unit/boot/fuzz-inputs.ts";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const count = Number(option("--count", "1000000"));
const seed = Number(option("--seed", "1"));
const only = option("--only", "");
const names = Object.keys(parsers).filter((n) => only === "" || n === only);
if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed) || names.length === 0) {
  console.error("usage: npx tsx bench/fuzz-boot.ts [--count N] [--seed S] [--only grub|syslinux|bls|heads-line]");
  process.exit(2);
}

const CHUNK = 50_000;
let failed = false;
for (const name of names) {
  const started = performance.now();
  const total = { ok: 0, refused: 0, entries: 0, slowestMs: 0 };
  try {
    for (let done = 0, chunk = 0; done < count; done += CHUNK, chunk += 1) {
      const chunkSeed = seed * 100_003 + chunk;
      const size = Math.min(CHUNK, count - done);
      // A progress line before each chunk: a watchdog that sees no new line knows which chunk hangs.
      console.error(`${name}: inputs ${done}..${done + size - 1} (chunk seed ${chunkSeed})`);
      const stats = fuzz(name, size, chunkSeed);
      total.ok += stats.ok;
      total.refused += stats.refused;
      total.entries += stats.entries;
      total.slowestMs = Math.max(total.slowestMs, stats.slowestMs);
    }
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    failed = true;
    continue;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${name}: ${count} inputs in ${seconds.toFixed(1)} s (${Math.round(count / seconds)}/s): ` +
    `${total.ok} parsed, ${total.refused} refused with BootConfigError, ${total.entries} entries round-tripped, ` +
    `slowest input ${total.slowestMs.toFixed(1)} ms`,
  );
}
process.exit(failed ? 1 : 0);
