// Every way PID 1 powers off or reboots sends the TPM its Shutdown first (DESIGN.md rule 8):
// an unclean stop counts toward dictionary-attack lockout. A recorder between bootward and
// swtpm shows which TPM commands had gone out when the machine was asked to go down.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, test } from "node:test";
import { openTpm } from "../../../tpm/index.ts";
import { RecordingTransport } from "../../../tpm/transport/recorder.ts";
import { createNodeSys } from "../../../runtime/host/node/sys.ts";
import type { Sys } from "../../../runtime/host/sys.ts";
import { startFlows } from "../../../runtime/flows/boot.ts";
import { plainUi } from "../../../runtime/flows/context.ts";
import { runMenusAsPid1 } from "../../../runtime/pid1/init.ts";
import { ScriptedPrompt, type ScriptedAnswer } from "../../../ui/scripted-prompt.ts";
import { startSwtpm, type Swtpm } from "../../support/swtpm.ts";
import { makeRoot } from "./fixture.ts";
import { rootedSys } from "../../../runtime/host/rooted.ts";

const host = createNodeSys();
let sw: Swtpm;
const roots: string[] = [];
before(async () => {
  sw = await startSwtpm("2.0");
});
after(async () => {
  await sw.stop();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

interface PowerEvent {
  choice: "poweroff" | "reboot";
  /** The TPM commands sent before the machine was asked to go down. */
  tpmCommands: string[];
}

interface Machine {
  sys: Sys;
  rec: RecordingTransport;
  /** Resolves at the first power off or reboot. */
  wentDown: Promise<PowerEvent>;
  /** What busybox's reboot (SIGTERM) or poweroff (SIGUSR2) would call in PID 1. */
  signal(choice: "poweroff" | "reboot"): void;
  console: string[];
}

/** PID 1 on a fixture root: power requests are recorded (and then never return, as on the firmware); `keys` are typed on the console. */
async function machine(answers: ScriptedAnswer[], keys = ""): Promise<Machine> {
  const root = makeRoot();
  roots.push(root);
  const rec = new RecordingTransport(sw.transport());
  let down!: (e: PowerEvent) => void;
  const wentDown = new Promise<PowerEvent>((resolve, reject) => {
    down = resolve;
    // A flow stuck on a question nobody answers would otherwise hang the test.
    setTimeout(() => reject(new Error(`the machine did not go down within 60 s; it showed: ${shown.join("")}`)), 60_000).unref();
  });
  let handler: ((choice: "poweroff" | "reboot") => void) | undefined;
  const shown: string[] = [];
  const goDown = (choice: "poweroff" | "reboot"): Promise<never> => {
    down({ choice, tpmCommands: rec.names() });
    return new Promise<never>(() => undefined);
  };
  const sys: Sys = {
    ...host,
    reboot: () => goDown("reboot"),
    poweroff: () => goDown("poweroff"),
    onPowerRequest: (h) => void (handler = h),
    console: {
      ...host.console,
      write: (t) => void shown.push(t),
      writeError: (t) => void shown.push(t),
      setRaw: () => undefined,
      onKeys: (h) => {
        if (keys) setImmediate(() => h(new TextEncoder().encode(keys)));
        return () => undefined;
      },
    },
  };
  // A fixture machine has no owner: the first screen offers the OEM reset; "m" goes on to the menus.
  const prompt = new ScriptedPrompt([{ menu: "m" }, ...answers]);
  void runMenusAsPid1(sys, async () => {
    const flows = await startFlows(rootedSys(sys, root), plainUi(prompt), { firmware: true, openTpm: () => openTpm(rec, { random: (n) => host.randomBytes(n) }) });
    rec.reset();
    return flows;
  });
  return {
    sys,
    rec,
    wentDown,
    console: shown,
    signal: (choice) => {
      assert.ok(handler, "PID 1 registered no handler for busybox's reboot and poweroff");
      handler(choice);
    },
  };
}

function assertShutdownFirst(event: PowerEvent, choice: "poweroff" | "reboot", rec: RecordingTransport): void {
  assert.equal(event.choice, choice);
  assert.ok(event.tpmCommands.includes("TPM2_Shutdown"), `no TPM2_Shutdown before the ${choice}: ${event.tpmCommands.join(", ")}`);
  assert.equal(event.tpmCommands.at(-1), "TPM2_Shutdown", "a command after the Shutdown would undo it");
  assert.equal(rec.log.find((e) => e.name === "TPM2_Shutdown")!.rc, 0, "the TPM refused the Shutdown");
}

test("Power Off in the main menu: TPM2_Shutdown, then poweroff", async () => {
  const m = await machine([{ menu: "p" }]);
  assertShutdownFirst(await m.wentDown, "poweroff", m.rec);
});

test("Reboot on the error screen: TPM2_Shutdown, then reboot", async () => {
  const m = await machine([
    {
      menu: async () => {
        throw new Error("a flow broke");
      },
    },
    { menu: "r" },
  ]);
  assertShutdownFirst(await m.wentDown, "reboot", m.rec);
});

test("busybox reboot from the recovery shell (a signal to PID 1): TPM2_Shutdown, then reboot", async () => {
  let m!: Machine;
  m = await machine([
    {
      menu: async () => {
        m.signal("reboot");
        await m.wentDown;
        return "p";
      },
    },
  ]);
  const event = await m.wentDown;
  assertShutdownFirst(event, "reboot", m.rec);
});

test("PID 1's fail-safe after the error screen itself failed: TPM2_Shutdown, then the reboot typed", async () => {
  // The script ends after the broken menu: the error screen fails too, and the error reaches PID 1.
  const m = await machine(
    [
      {
        menu: async () => {
          throw new Error("a flow broke");
        },
      },
    ],
    "r",
  );
  assertShutdownFirst(await m.wentDown, "reboot", m.rec);
  assert.match(m.console.join(""), /bootward stopped: .*Press p to power off or r to reboot/s);
});
