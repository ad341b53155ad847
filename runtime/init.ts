// What happens when the kernel starts us as /init.
import type { Sys } from "./host/sys.ts";
import { mountEarlyFilesystems, runAsPid1 } from "./pid1.ts";
import { boardModules, loadMeasuredModules } from "./pid1/modules.ts";
import { openTpmDevice } from "./tpm.ts";
import type { Tpm } from "../tpm/index.ts";
import { runBootFlow, startFlows } from "./flows/boot.ts";
import { createConsoleUi } from "./flows/console-ui.ts";
import type { FlowContext } from "./flows/context.ts";
import { prepareForPowerChange, type PowerChoice } from "./flows/power.ts";
import { describeError } from "./errors.ts";

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
  const problem = await prepareForPowerChange(flows);
  if (problem) sys.console.write(`${problem}\r\n`);
  try {
    await (request === "reboot" ? sys.reboot() : sys.poweroff());
  } catch (error) {
    sys.console.write(`The ${request} asked for could not be done: ${describeError(error)}\r\n`);
  }
}

export function bootAsPid1(sys: Sys): Promise<never> {
  return runAsPid1(sys, async () => {
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
    let choice;
    try {
      const openTpm = () => (tpm ? Promise.resolve(tpm) : Promise.reject(tpmFailure));
      const flows = await startFlows(sys, ui, { root: "/", firmware: true, shell: FIRMWARE_SHELL, openTpm });
      // `reboot` or `poweroff` typed in the recovery shell signal PID 1: the TPM gets its
      // Shutdown first, as on every other way out.
      sys.onPowerRequest((request) => void leaveOnRequest(sys, flows, request));
      choice = await runBootFlow(flows);
    } catch (error) {
      // The plain-text fail-safe takes over: the screen session must not draw over it.
      ui.close();
      throw error;
    }
    if (choice === "reboot") await sys.reboot();
    await sys.poweroff();
  });
}
