// ≥100k mutated TPM responses and ≥100k mutated event logs: only typed errors, no hang.
// (bench/fuzz-tpm.ts runs ≥1M of each.)
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { fuzzEventLogs, fuzzResponses, recordScenarios, replayClean, type Scenario } from "./fuzz-core.ts";

let scenarios: Scenario[];

before(async () => {
  scenarios = await recordScenarios();
});

test("the recorded scenarios replay cleanly before mutation", async () => {
  assert.ok(scenarios.length >= 12);
  for (const s of scenarios) await replayClean(s);
});

test("100k mutated TPM responses end in a result or a TpmError", { timeout: 600_000 }, async () => {
  const stats = await fuzzResponses(scenarios, 100_000, 0xc0ffee);
  assert.equal(stats.runs, 100_000);
  assert.ok(stats.ok > 0, "some mutations are harmless");
  assert.ok((stats.typed["TpmFormatError"] ?? 0) > 0);
  assert.ok((stats.typed["TpmResponseError"] ?? 0) > 0);
});

test("100k mutated event logs end in a result or a TpmFormatError", { timeout: 600_000 }, () => {
  const stats = fuzzEventLogs(100_000, 0xbadc0de);
  assert.equal(stats.runs, 100_000);
  assert.ok(stats.ok > 0);
  assert.deepEqual(Object.keys(stats.typed), ["TpmFormatError"]);
});
