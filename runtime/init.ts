// What happens when the kernel starts us as /init.
import type { Sys } from "./host/sys.ts";
import { loadModules, mountEarlyFilesystems, runAsPid1 } from "./pid1.ts";
import { firstScreen } from "./flows/boot.ts";

/** The kernel runs /init with no arguments; any other name or an argument means the tool. */
export function isPid1Invocation(args: string[]): boolean {
  const name = (args[0] ?? "").split("/").pop();
  return name === "init" && args.length === 1;
}

export function bootAsPid1(sys: Sys): Promise<never> {
  return runAsPid1(sys, async () => {
    await mountEarlyFilesystems(sys);
    await loadModules(sys, (line) => sys.console.write(line + "\r\n"));
    const choice = await firstScreen(sys, { root: "/", firmware: true });
    if (choice === "reboot") await sys.reboot();
    await sys.poweroff();
  });
}
