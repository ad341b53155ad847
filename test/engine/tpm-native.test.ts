// The TPM scenario on the shipped binary, dist/bootward (static musl QuickJS).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../build/paths.ts";
import { tpmScenario } from "./tpm-scenario.ts";

const binary = join(repoRoot, "dist/bootward");

tpmScenario("native", async () => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npm run build`);
  return (device, args) =>
    new Promise((resolve, reject) => {
      execFile(binary, ["--tpm", device, "tpm", ...args], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
        const status = error ? error.code : 0;
        if (typeof status !== "number") reject(new Error(`cannot run ${binary} tpm ${args.join(" ")}: ${error?.message}`));
        else resolve({ status, stdout, stderr });
      });
    });
});
