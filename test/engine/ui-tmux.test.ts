// The native binary's menus on a real pty: tmux runs `bootward menu` against a fixture root
// and swtpm behind a pty; keys go in with send-keys, the screen comes back with capture-pane.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../../build/paths.ts";
import { startSwtpmPty, type SwtpmPty } from "../support/swtpm.ts";
import { makeRoot } from "../unit/flows/fixture.ts";

const run = promisify(execFile);
const binary = join(repoRoot, "dist/bootward");
const dirs: string[] = [];

interface Session {
  keys(...keys: string[]): Promise<void>;
  /** The visible screen; with escapes, colour codes are kept. */
  screen(escapes?: boolean): Promise<string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** null while bootward runs, its exit status once it has left. */
  exitStatus(): Promise<number | null>;
  /** Waits (up to a minute) for bootward to leave; its exit status, or null if it is still running. */
  waitForExit(): Promise<number | null>;
  kill(): Promise<void>;
}

/** The waitpid status of an exited, unreaped process (field 52 of /proc/PID/stat), or null. */
function zombieWaitStatus(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).trim().split(" ");
  return fields[0] === "Z" ? Number(fields[52 - 3]) : null;
}

async function startSession(opts: { root: string; tpm: string; term: string; columns: number; rows: number }): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), "bootward-tmux-"));
  dirs.push(dir);
  const socket = join(dir, "tmux.sock");
  // ink renders non-interactively when it sees CI in the environment; the firmware never does.
  const env = { ...process.env };
  delete env.CI;
  delete env.TMUX;
  const tmux = (...args: string[]) => run("tmux", ["-S", socket, ...args], { env, encoding: "utf8" }).then((r) => r.stdout);
  // Arguments after the command name are exec'd as they are, without a shell; tmux sets
  // TERM itself (default-terminal), so env(1) puts the one under test in front of it.
  await tmux("-f", "/dev/null", "new-session", "-d", "-x", String(opts.columns), "-y", String(opts.rows),
    "--", "env", `TERM=${opts.term}`, binary, "--root", opts.root, "--tpm", opts.tpm, "menu");
  await tmux("set-option", "-g", "remain-on-exit", "on");
  const session: Session = {
    async keys(...keys) {
      for (const k of keys) await tmux("send-keys", k);
    },
    screen: (escapes = false) => tmux("capture-pane", "-p", ...(escapes ? ["-e"] : [])),
    // A minute: the bound is for a loaded two-core machine (QEMU beside this test), not for bootward.
    async waitFor(pattern, timeoutMs = 60_000) {
      const start = Date.now();
      for (;;) {
        const text = await session.screen();
        if (pattern.test(text)) return text;
        if (Date.now() - start > timeoutMs) throw new Error(`the screen never showed ${pattern}; it shows:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async exitStatus() {
      const [pid, dead, status, signal] = (await tmux("list-panes", "-F", "#{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}")).trim().split(" ");
      let wait = /^\d+$/.test(status ?? "") ? Number(status) << 8 : /^\d+$/.test(signal ?? "") ? Number(signal) : null;
      // On a loaded machine tmux can see the pane's pty close and leave its child a zombie,
      // unreaped and with no status, for a minute or more: the kernel still has the status.
      if (wait === null && dead === "1") wait = zombieWaitStatus(Number(pid));
      if (wait === null) return null;
      // A death by a signal must fail the test, not read as still running.
      if ((wait & 0x7f) !== 0) throw new Error(`bootward was killed by signal ${wait & 0x7f}; the screen shows:\n${await session.screen()}`);
      return (wait >> 8) & 0xff;
    },
    async waitForExit() {
      const start = Date.now();
      for (;;) {
        const status = await session.exitStatus();
        if (status !== null || Date.now() - start > 60_000) return status;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async kill() {
      await tmux("kill-server").catch(() => undefined);
    },
  };
  return session;
}

let swtpm: SwtpmPty;
before(async () => {
  assert.ok(existsSync(binary), `${binary} does not exist; build it with npx tsx build.ts --no-initrd`);
  swtpm = await startSwtpmPty();
});
after(async () => {
  await swtpm.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});


test("TERM=linux, 100×30: main menu, arrows, System Info with PCRs 0-7, Escape, recovery shell and back, p exits", { timeout: 600_000 }, async () => {
  await swtpm.ready();
  const root = makeRoot();
  dirs.push(root);
  const s = await startSession({ root, tpm: swtpm.device, term: "linux", columns: 100, rows: 30 });
  try {
    const main = await s.waitFor(/Test Board \| Acme Boot Menu/);
    assert.match(main, /TOTP: not configured \| HOTP: not configured/);
    assert.match(main, /INTEGRITY: UNKNOWN/);
    assert.match(main, /> d  Default boot/);
    assert.match(main, /^ {2}r  Refresh TOTP\/HOTP/m);
    assert.match(await s.screen(true), /\u001b\[(3[0-7]|9[0-7])m/, "TERM=linux gets colours");

    await s.keys("Down", "Down", "Down");
    await s.waitFor(/> s  System Info/);
    await s.keys("Up");
    await s.waitFor(/> o  Options/);

    await s.keys("s");
    const info = await s.waitFor(/PCR +7: [0-9a-f]{64}/);
    for (let pcr = 0; pcr <= 7; pcr++) assert.match(info, new RegExp(`PCR +${pcr}: [0-9a-f]{64}`));
    assert.match(info, /TPM: 2\.0, manufacturer/);
    assert.match(info, /Disks: vda 64 MiB/);
    assert.doesNotMatch(info, /Boot Menu/, "the menu is gone from the screen, not left behind");

    await s.keys("Enter");
    await s.waitFor(/Boot Menu/);
    await s.keys("o");
    await s.waitFor(/x  Exit to recovery shell/);
    await s.keys("Escape");
    await s.waitFor(/Boot Menu/);

    await s.keys("o");
    await s.waitFor(/x  Exit to recovery shell/);
    await s.keys("x");
    await s.waitFor(/^recovery#\s*$/m);
    assert.ok(!existsSync(join(root, "tmp/secret/totp.key")), "secrets are destroyed before the shell");
    // Cooked mode is back: the shell echoes and edits lines.
    await s.keys("echo made-$((20+22))", "Enter");
    await s.waitFor(/^made-42$/m);
    await s.keys("exit", "Enter");
    await s.waitFor(/x  Exit to recovery shell/);
    assert.doesNotMatch(await s.screen(), /made-42/, "the menu redraws on a clear screen");
    await s.keys("r");
    await s.waitFor(/Boot Menu/);
    await s.keys("p");
    assert.equal(await s.waitForExit(), 0);
  } finally {
    await s.kill();
  }
});

test("TERM=vt100, 80×24: monochrome, the menu fits, hot-keys and Enter work", { timeout: 600_000 }, async () => {
  await swtpm.ready();
  const root = makeRoot();
  dirs.push(root);
  const s = await startSession({ root, tpm: swtpm.device, term: "vt100", columns: 80, rows: 24 });
  try {
    await s.waitFor(/Test Board \| Acme Boot Menu/);
    assert.doesNotMatch(await s.screen(true), /\u001b\[(3[0-7]|9[0-7]|38;5;\d+)m/, "no colour codes on a vt100");
    await s.keys("s");
    const info = await s.waitFor(/PCR +7: [0-9a-f]{64}/);
    assert.match(info, /Memory: 991 MiB/);
    assert.match(info, /Press Enter to continue/, "System Info fits on 80×24");
    await s.keys("Enter");
    await s.waitFor(/Boot Menu/);
    await s.keys("Down", "Down", "Down", "Down");
    await s.waitFor(/> p  Power Off/);
    await s.keys("Enter");
    assert.equal(await s.waitForExit(), 0, "Enter on Power Off leaves the menu");
  } finally {
    await s.kill();
  }
});
