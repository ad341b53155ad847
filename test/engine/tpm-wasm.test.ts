// The TPM scenario on QuickJS in WebAssembly: the firmware bundle, one fresh engine per command.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../build/paths.ts";
import { bundle } from "../../build/bundle.ts";
import { runBundleInWasm } from "../support/quickjs-wasm.ts";
import { tpmScenario } from "./tpm-scenario.ts";

tpmScenario("wasm", async (work) => {
  const out = join(work, "bootward.mjs");
  await bundle({ entry: join(repoRoot, "runtime/main.ts"), outFile: out });
  const source = readFileSync(out, "utf8");
  return async (device, args) => {
    const run = await runBundleInWasm({ source, args: ["bootward", "--tpm", device, "tpm", ...args], devices: [device], timeoutMs: 60_000 });
    return { status: run.exitCode, stdout: run.stdout, stderr: run.stderr };
  };
});
