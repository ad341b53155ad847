// PID 1's duties, done by bootward itself (no shell script in the boot path): the kernel
// hands us an initramfs with nothing mounted, and if PID 1 ever exits the kernel panics.
import type { Sys } from "../host/sys.ts";
import { describeError } from "../errors.ts";
import { waitForChoice } from "./keys.ts";

interface MountSpec {
  source: string;
  target: string;
  fstype: string;
  options?: string;
}

const mounts: MountSpec[] = [
  { source: "devtmpfs", target: "/dev", fstype: "devtmpfs", options: "mode=0755" },
  { source: "proc", target: "/proc", fstype: "proc", options: "nosuid,nodev,noexec" },
  { source: "sysfs", target: "/sys", fstype: "sysfs", options: "nosuid,nodev,noexec" },
  { source: "devpts", target: "/dev/pts", fstype: "devpts", options: "gid=5,mode=620" },
  { source: "tmpfs", target: "/tmp", fstype: "tmpfs", options: "mode=1777" },
  { source: "securityfs", target: "/sys/kernel/security", fstype: "securityfs" },
];

export async function mountEarlyFilesystems(sys: Sys): Promise<void> {
  for (const m of mounts) {
    if (!sys.stat(m.target)) sys.mkdir(m.target);
    await sys.mount(m.source, m.target, m.fstype, m.options);
  }
  // Secrets may only ever live here, on tmpfs; it is emptied before kexec and the recovery shell.
  sys.mkdir("/tmp/secret", 0o700);
}

export type PowerAction = (choice: "poweroff" | "reboot") => Promise<never>;

/**
 * Runs `body` as PID 1 must: an error never ends the process. It is shown with the choice
 * to power off or reboot, and if even that fails we wait forever rather than panic the kernel.
 * `power` does the powering off, so that the TPM can be shut down first.
 */
export async function runAsPid1(sys: Sys, body: () => Promise<void>, power: PowerAction = plainPower(sys)): Promise<never> {
  try {
    await body();
    throw new Error("the boot flow ended without powering off");
  } catch (error) {
    return failSafe(sys, `bootward stopped: ${describeError(error)}`, power);
  }
}

function plainPower(sys: Sys): PowerAction {
  return (choice) => (choice === "reboot" ? sys.reboot() : sys.poweroff());
}

async function failSafe(sys: Sys, message: string, power: PowerAction): Promise<never> {
  for (;;) {
    try {
      sys.console.write(`\r\n*** ${message}\r\n*** Press p to power off or r to reboot.\r\n`);
      const key = await waitForChoice(sys, ["p", "r"]);
      await power(key === "r" ? "reboot" : "poweroff");
    } catch (error) {
      message = `could not power off: ${describeError(error)}`;
      await sys.sleep(1000);
    }
  }
}
