// What the QEMU tests share after a board has run: its console kept for whoever reads a
// failure, and the wait for a board that should power off by itself.
import assert from "node:assert/strict";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive, type QemuBoard } from "../../initrd/qemu/board.ts";

const repo = new URL("../../", import.meta.url).pathname;

/** The board's console log, kept as test-artifacts/<group>/<name>.console.log. */
export function keepConsole(qemu: QemuBoard, group: string, name: string): void {
  const logs = join(repo, "test-artifacts", group);
  mkdirSync(logs, { recursive: true });
  cpSync(join(qemu.stateDir, "console.log"), join(logs, `${name}.console.log`));
}

/** QEMU exits within two minutes (after `what`) and leaves no process behind. */
export async function poweredOff(qemu: QemuBoard, what: string): Promise<void> {
  // An unref'd timer: a board that exits in time must not keep the test process alive.
  const exit = await Promise.race([qemu.exited, sleep(120_000, "hung" as const, { ref: false })]);
  assert.notEqual(exit, "hung", `QEMU did not exit after ${what}:\n${qemu.output().slice(-3000)}`);
  assert.equal(processAlive(qemu.pid), false, "QEMU is still running");
}
