// What happens when the kernel starts us as /init.
import type { Sys } from "./host/sys.ts";
import { loadModules, mountEarlyFilesystems, runAsPid1 } from "./pid1.ts";
import { runBootFlow, startFlows } from "./flows/boot.ts";
import { createConsoleUi } from "./flows/console-ui.ts";

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

export function bootAsPid1(sys: Sys): Promise<never> {
  return runAsPid1(sys, async () => {
    await mountEarlyFilesystems(sys);
    await loadModules(sys, (line) => sys.console.write(line + "\r\n"));
    const ui = createConsoleUi(sys, { second: TTY1 });
    let choice;
    try {
      choice = await runBootFlow(await startFlows(sys, ui, { root: "/", firmware: true, shell: FIRMWARE_SHELL }));
    } catch (error) {
      // The plain-text fail-safe takes over: the screen session must not draw over it.
      ui.close();
      throw error;
    }
    if (choice === "reboot") await sys.reboot();
    await sys.poweroff();
  });
}
