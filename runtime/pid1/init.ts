// What happens when the kernel starts us as /init.
import type { Sys } from "../host/sys.ts";
import { mountEarlyFilesystems, runAsPid1 } from "./duties.ts";
import { boardModules, loadMeasuredModules } from "./modules.ts";
import { openTpmDevice } from "../platform/tpm-device.ts";
import type { Tpm } from "../../tpm/index.ts";
import { runBootFlow, startFlows } from "../flows/boot.ts";
import { createConsoleUi } from "../flows/console-ui.ts";
import type { FlowContext } from "../flows/context.ts";
import { powerChange, type PowerChoice } from "../flows/power.ts";
import { describeError } from "../errors.ts";

// /dev/console cannot be a controlling terminal: cttyhack opens the real console for the
// shell, in its own session (setsid), so Ctrl-C works in it and never reaches PID 1.
const FIRMWARE_SHELL = ["setsid", "cttyhack", "sh"];

// The serial line is /dev/console (the last console= on the cmdline); the framebuffer's
// tty1 shows the same screen and its keyboard (USB or PS/2) drives it too.
const TTY1 = "/dev/tty1";

/** The kernel runs /init with no arguments; any other name or an argument means the tool. */
export function isPid1Invocation(args: string[]): boolean {
  const name = (args[0] ?? "").split("/").pop();
  return name === "init" && args.length === 1;
}

async function leaveOnRequest(sys: Sys, flows: FlowContext, request: PowerChoice): Promise<void> {
  try {
    await powerChange(sys, flows, request);
  } catch (error) {
    sys.console.write(`The ${request} asked for could not be done: ${describeError(error)}\r\n`);
  }
}

export function bootAsPid1(sys: Sys): Promise<never> {
  return runMenusAsPid1(sys, async () => {
    await mountEarlyFilesystems(sys);
    // The TPM driver is built into the kernel: the TPM opens before any module loads, so each is measured.
    let tpm: Tpm | null = null;
    let tpmFailure: unknown;
    try {
      tpm = await openTpmDevice(sys);
    } catch (error) {
      tpmFailure = error;
    }
    const modules = await loadMeasuredModules(sys, tpm, boardModules(sys), `/lib/modules/${sys.readText("/proc/sys/kernel/osrelease").trim()}`);
    for (const problem of modules.problems) sys.console.write(`${problem}\r\n`);
    const ui = createConsoleUi(sys, { second: TTY1 });
    try {
      const openTpm = () => (tpm ? Promise.resolve(tpm) : Promise.reject(tpmFailure));
      return await startFlows(sys, ui, { firmware: true, shell: FIRMWARE_SHELL, openTpm });
    } catch (error) {
      ui.close();
      throw error;
    }
  });
}

/**
 * PID 1 once `start` has set the machine up: the menus until they end, then power off or
 * reboot. Every way out (the menus' choice, busybox's reboot/poweroff from the recovery shell,
 * the fail-safe after an error) sends the TPM its Shutdown first.
 */
export function runMenusAsPid1(sys: Sys, start: () => Promise<FlowContext>): Promise<never> {
  let flows: FlowContext | null = null;
  const body = async () => {
    const running = await start();
    flows = running;
    sys.onPowerRequest((request) => void leaveOnRequest(sys, running, request));
    let choice: PowerChoice;
    try {
      choice = await runBootFlow(running);
    } catch (error) {
      // The plain-text fail-safe takes over: the screen session must not draw over it.
      running.ui.close();
      throw error;
    }
    await powerChange(sys, running, choice);
  };
  return runAsPid1(sys, body, (choice) => powerChange(sys, flows, choice));
}
