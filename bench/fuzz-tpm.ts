// The long fuzz run: ≥1M mutated TPM responses and ≥1M mutated event logs (npm test runs
// 100k of each). `npx tsx bench/fuzz-tpm.ts [RUNS] [SEED]`; exits 1 on the first untyped
// error. Runs in chunks of its own seed, announced on stderr before each chunk, so a failure
// or a hang (seen by `npm run fuzz`, bench/fuzz-all.ts) names the chunk that replays it.
import { fuzzEventLogs, fuzzResponses, recordScenarios, type FuzzStats } from "../test/tpm/fuzz-core.ts";

const CHUNK = 50_000;
const runs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() & 0xffffffff);
if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed)) {
  console.error("usage: npx tsx bench/fuzz-tpm.ts [RUNS] [SEED]");
  process.exit(2);
}

async function chunked(name: string, base: number, run: (count: number, chunkSeed: number) => FuzzStats | Promise<FuzzStats>): Promise<void> {
  const total: FuzzStats = { runs: 0, ok: 0, typed: {} };
  const started = performance.now();
  for (let done = 0, chunk = 0; done < runs; done += CHUNK, chunk++) {
    const chunkSeed = (base + chunk) >>> 0;
    const size = Math.min(CHUNK, runs - done);
    console.error(`${name}: inputs ${done}..${done + size - 1} (chunk seed ${chunkSeed})`);
    const s = await run(size, chunkSeed);
    total.runs += s.runs;
    total.ok += s.ok;
    for (const [k, v] of Object.entries(s.typed)) total.typed[k] = (total.typed[k] ?? 0) + v;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name}: ${total.runs} inputs in ${seconds.toFixed(1)} s (${Math.round(total.runs / seconds)}/s): ${total.ok} accepted, typed errors ${JSON.stringify(total.typed)}`);
}

console.log(`fuzzing ${runs} responses and ${runs} event logs, seed ${seed}`);
try {
  const scenarios = await recordScenarios();
  await chunked("responses", seed, (count, s) => fuzzResponses(scenarios, count, s));
  await chunked("event logs", seed ^ 0x9e3779b9, (count, s) => fuzzEventLogs(count, s));
} catch (e) {
  console.error(`fuzz found an untyped failure: ${(e as Error).message}`);
  process.exit(1);
}
