// The README's first command, `npm start`, end to end (see npm-start.ts): the board boots, a
// reboot typed in the recovery shell restarts it in the same run, power off ends QEMU, swtpm
// and the command. A state dir of its own keeps a developer's .state/ out of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driveNpmStart, processesMentioning } from "./npm-start.ts";

test("npm start: boots the board; `reboot` in the recovery shell restarts it; p powers off and ends QEMU and swtpm", { timeout: 1_200_000 }, async (t) => {
  const state = mkdtempSync(join(tmpdir(), "bootward-npm-start-"));
  try {
    const run = await driveNpmStart({ args: ["--state", state], firstScreenMs: 600_000, log: (line) => t.diagnostic(line) });
    assert.equal(run.boots, 2, "one boot, then one more after the reboot, in the same run");
    assert.match(run.output, /QEMU exited \(code 0\); swtpm stopped/);
    assert.equal(run.exitCode, 0);
    assert.deepEqual(processesMentioning(state), [], "QEMU or swtpm is still running after power off");
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
