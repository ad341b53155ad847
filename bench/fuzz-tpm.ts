// The long fuzz run: ≥1M mutated TPM responses and ≥1M mutated event logs (npm test runs
// 100k of each). `npx tsx bench/fuzz-tpm.ts [RUNS] [SEED]`; exits 1 on the first untyped error.
import { fuzzEventLogs, fuzzResponses, recordScenarios } from "../test/tpm/fuzz-core.ts";

const runs = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() & 0xffffffff);
console.log(`fuzzing ${runs} responses and ${runs} event logs, seed ${seed}`);
try {
  const scenarios = await recordScenarios();
  let t = performance.now();
  const r = await fuzzResponses(scenarios, runs, seed);
  console.log(`responses: ${r.runs} runs, ${r.ok} accepted, typed errors ${JSON.stringify(r.typed)}, ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const l = fuzzEventLogs(runs, seed ^ 0x9e3779b9);
  console.log(`event logs: ${l.runs} runs, ${l.ok} accepted, typed errors ${JSON.stringify(l.typed)}, ${((performance.now() - t) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`fuzz found an untyped failure: ${(e as Error).message}`);
  process.exit(1);
}
