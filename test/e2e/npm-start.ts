// `npm start` as the README has it, driven through its console as a person at the terminal
// would: the board boots to the OEM reset offer; in the recovery shell, `reboot` restarts the
// board (the same QEMU run, the same swtpm); `p` in the menu powers off, which ends QEMU,
// swtpm and the command. .ci/run runs this on the fresh machine before the tests
// (`npx tsx test/e2e/npm-start.ts`, the command exactly as written); the e2e test runs it with
// a state dir of its own, so a developer's .state/ is left alone.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { NO_OWNER_TITLE } from "../../runtime/flows/ownership.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));

export class StartCheckError extends Error {
  override name = "StartCheckError";
}

/** Processes whose command line mentions `text` (QEMU and swtpm name their state dir). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8");
      if (cmdline.includes(text) && !/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, "utf8"))) pids.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

export interface StartRun {
  /** Everything `npm start` printed (build lines, the console of every boot). */
  output: string;
  /** How many times the console showed bootward's first screen. */
  boots: number;
  exitCode: number | null;
}

/**
 * Runs `npm start ARGS` and drives it; rejects with the console's tail when a screen does not
 * come. `firstScreenMs` covers the build a fresh checkout does first.
 */
export async function driveNpmStart(opts: { args: string[]; firstScreenMs: number; log?: (line: string) => void }): Promise<StartRun> {
  // Its own process group, so a failed check can interrupt npm, the runner and QEMU together.
  const child = spawn("npm", ["start", ...(opts.args.length > 0 ? ["--", ...opts.args] : [])], { cwd: repo, stdio: ["pipe", "pipe", "pipe"], detached: true });
  const utf8 = new StringDecoder("utf8");
  let out = "";
  let cursor = 0;
  let exited: { code: number | null } | null = null;
  const wake = new Set<() => void>();
  const take = (d: Buffer) => {
    out += utf8.write(d);
    for (const w of [...wake]) w();
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const done = new Promise<number | null>((r) =>
    child.on("close", (code) => {
      exited = { code };
      for (const w of [...wake]) w();
      r(code);
    }),
  );
  const tail = () => out.slice(-3000);
  const waitFor = (re: RegExp, ms: number, what: string) =>
    new Promise<void>((resolveWait, reject) => {
      const check = () => {
        const m = re.exec(out.slice(cursor));
        if (m !== null) {
          cursor += m.index + m[0].length;
          finish();
          opts.log?.(`seen: ${what}`);
          resolveWait();
        } else if (exited !== null) {
          finish();
          reject(new StartCheckError(`npm start ended (exit ${exited.code}) before ${what}; its output ends with:\n${tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new StartCheckError(`npm start did not show ${what} within ${ms / 1000} s; its output ends with:\n${tail()}`));
      }, ms);
      const finish = () => {
        clearTimeout(timer);
        wake.delete(check);
      };
      wake.add(check);
      check();
    });
  const type = (text: string) => child.stdin.write(text);
  const offer = new RegExp(NO_OWNER_TITLE);
  try {
    await waitFor(offer, opts.firstScreenMs, "the first boot's OEM reset offer");
    await waitFor(/Continue to the main menu/, 60_000, "the offer's way on to the menu");
    type("m");
    await waitFor(/bootward Boot Menu[^]*Power Off/, 60_000, "the main menu");
    type("o");
    await waitFor(/Exit to recovery shell/, 60_000, "the Options menu");
    type("x");
    await waitFor(/recovery# /, 60_000, "the recovery shell's prompt");
    type("reboot\r");
    await waitFor(offer, 600_000, "the OEM reset offer again, after the reboot");
    await waitFor(/Continue to the main menu/, 60_000, "the offer's way on to the menu");
    type("m");
    await waitFor(/bootward Boot Menu[^]*Power Off/, 60_000, "the main menu after the reboot");
    type("p");
    const code = await Promise.race([done, sleep(120_000, "hung" as const, { ref: false })]);
    if (code === "hung") throw new StartCheckError(`npm start was still running 2 minutes after "p"; its output ends with:\n${tail()}`);
    return { output: out, boots: out.split(NO_OWNER_TITLE).length - 1, exitCode: code };
  } finally {
    if (exited === null) {
      // As Ctrl-C at the terminal: the runner stops QEMU and swtpm in order; then no mercy.
      process.kill(-child.pid!, "SIGINT");
      const stopped = await Promise.race([done.then(() => true), sleep(60_000, false, { ref: false })]);
      if (!stopped) process.kill(-child.pid!, "SIGKILL");
      await done;
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  driveNpmStart({ args: process.argv.slice(2), firstScreenMs: 1_800_000, log: (line) => process.stderr.write(`npm start check: ${line}\n`) }).then(
    (run) => {
      const swtpmStopped = /QEMU exited \(code 0\); swtpm stopped/.test(run.output);
      if (run.exitCode !== 0 || run.boots !== 2 || !swtpmStopped) {
        process.stderr.write(`npm start check failed: exit ${run.exitCode}, ${run.boots} boots, swtpm stopped: ${swtpmStopped}\n${run.output.slice(-3000)}\n`);
        process.exit(1);
      }
      process.stderr.write("npm start check: booted, restarted on reboot, powered off cleanly\n");
    },
    (error: unknown) => {
      process.stderr.write(`npm start check failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
