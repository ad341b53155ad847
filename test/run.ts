// `npm test`: ensure the tools, build what the engine and end-to-end tests need, then run every
// test file, each in its own node test-runner process, two at a time (the machine has two
// cores): the QEMU files in one lane from the start, since they are the long pole, and every
// other file beside them. Each file's report is printed whole when it ends; at the end come the
// ten slowest files, each stage's time and one plain closing line.
//
//     npm test                       everything
//     npm test -- e2e/ tpm/cli       only the files whose path contains one of the words
//     npm test -- test/e2e/totp.test.ts
//
// BOOTWARD_SKIP_BUILD=1 skips the build; BOOTWARD_TEST_JOBS=N runs N files at a time.
import { spawn, spawnSync } from "node:child_process";
import { cpus } from "node:os";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { TEST_TOOLS, ensureTools } from "../initrd/host-tools.ts";

const here = new URL("..", import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith(".test.ts") || name.endsWith(".test.tsx")) found.push(relative(here, path));
  }
  return found;
}

interface TestFile {
  path: string;
  /** The folder under test/: unit, tpm, engine, e2e … */
  stage: string;
  /** Boots the QEMU board (minutes under TCG). */
  qemu: boolean;
}

/** A file boots QEMU when it starts the board itself or through one of the helpers that do. */
function bootsQemu(path: string): boolean {
  const text = readFileSync(join(here, path), "utf8");
  return /\bstartQemu\b|\/blank-machine\.ts|\/npm-start\.ts/.test(text);
}

interface Outcome {
  file: TestFile;
  ms: number;
  startedAt: number;
  pass: number;
  fail: number;
  skipped: number;
  report: string;
}

const tapCount = (tap: string, name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(tap)?.[1] ?? 0);

function runFile(file: TestFile, tapDir: string, t0: number): Promise<Outcome> {
  const tap = join(tapDir, file.path.replace(/[/\\]/g, "__") + ".tap");
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    [
      "--import", "tsx", "--test",
      "--test-reporter=spec", "--test-reporter-destination=stdout",
      "--test-reporter=tap", `--test-reporter-destination=${tap}`,
      file.path,
    ],
    { cwd: here, stdio: ["ignore", "pipe", "pipe"] },
  );
  const chunks: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => chunks.push(d));
  child.stderr.on("data", (d: Buffer) => chunks.push(d));
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      let text = "";
      try {
        text = readFileSync(tap, "utf8");
      } catch {
        // no TAP at all: the process died before reporting; counted as one failure below
      }
      const fail = tapCount(text, "fail") + tapCount(text, "cancelled");
      const outcome: Outcome = {
        file,
        ms: Date.now() - startedAt,
        startedAt: startedAt - t0,
        pass: tapCount(text, "pass"),
        fail: fail === 0 && (code !== 0 || signal !== null) ? 1 : fail,
        skipped: tapCount(text, "skipped") + tapCount(text, "todo"),
        report: Buffer.concat(chunks).toString("utf8"),
      };
      resolve(outcome);
    });
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function runAll(files: TestFile[], jobs: number): Promise<Outcome[]> {
  const tapDir = mkdtempSync(join(here, ".build", "test-results-"));
  const t0 = Date.now();
  // The QEMU files go first in their lane, in the order found; the others fill the free slots.
  const qemuQueue = files.filter((f) => f.qemu);
  const otherQueue = files.filter((f) => !f.qemu);
  const outcomes: Outcome[] = [];
  let qemuRunning = 0;
  let running = 0;
  await new Promise<void>((done) => {
    const next = () => {
      while (running < jobs) {
        // One QEMU file at a time while other files wait; two at once when nothing else is left.
        const takeQemu = qemuQueue.length > 0 && (qemuRunning === 0 || otherQueue.length === 0);
        const file = takeQemu ? qemuQueue.shift() : otherQueue.shift();
        if (file === undefined) break;
        running++;
        if (file.qemu) qemuRunning++;
        void runFile(file, tapDir, t0).then((outcome) => {
          running--;
          if (file.qemu) qemuRunning--;
          outcomes.push(outcome);
          const mark = outcome.fail > 0 ? "✖ FAILED" : "✔";
          process.stdout.write(`\n${mark} ${file.path} (${seconds(outcome.ms)}, ${outcome.pass} passed, ${outcome.fail} failed, ${outcome.skipped} skipped)\n${outcome.report}`);
          next();
        });
      }
      if (running === 0 && qemuQueue.length === 0 && otherQueue.length === 0) done();
    };
    next();
  });
  rmSync(tapDir, { recursive: true, force: true });
  return outcomes;
}

function summary(outcomes: Outcome[], wallMs: number, buildMs: number): string {
  const lines = ["", "Ten slowest files:"];
  for (const o of [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 10)) lines.push(`  ${seconds(o.ms).padStart(8)}  ${o.file.path}`);
  lines.push("", "Stages (files run side by side, so the spans overlap):");
  if (buildMs > 0) lines.push(`  ${"build".padEnd(8)} ${seconds(buildMs).padStart(8)}`);
  const stages = [...new Set(outcomes.map((o) => o.file.stage))].sort();
  for (const stage of stages) {
    const mine = outcomes.filter((o) => o.file.stage === stage);
    const sum = mine.reduce((n, o) => n + o.ms, 0);
    const start = Math.min(...mine.map((o) => o.startedAt));
    const end = Math.max(...mine.map((o) => o.startedAt + o.ms));
    lines.push(`  ${stage.padEnd(8)} ${seconds(sum).padStart(8)} in ${String(mine.length).padStart(2)} files, from ${seconds(start)} to ${seconds(end)}`);
  }
  lines.push(`  ${"all".padEnd(8)} ${seconds(wallMs).padStart(8)} wall clock for the tests`);
  const failed = outcomes.filter((o) => o.fail > 0);
  if (failed.length > 0) lines.push("", "Failed:", ...failed.map((o) => `  ${o.file.path}`));
  return lines.join("\n");
}

async function main(): Promise<number> {
  const files: TestFile[] = findTests(join(here, "test"))
    .filter((path) => filters.length === 0 || filters.some((f) => path.includes(f)))
    .map((path) => ({ path, stage: path.split("/")[1]!, qemu: bootsQemu(path) }));
  if (files.length === 0) {
    console.error(`no test file matches ${filters.join(" ")}`);
    return 2;
  }

  // The tests run real parts (swtpm, QEMU, GnuPG, tpm2-tools, oathtool, tmux …): as root the
  // missing Debian packages are installed, otherwise the exact apt-get line is printed.
  try {
    ensureTools(TEST_TOOLS);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }

  let buildMs = 0;
  if (process.env.BOOTWARD_SKIP_BUILD !== "1") {
    const start = Date.now();
    const build = spawnSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: here, stdio: "inherit" });
    buildMs = Date.now() - start;
    if (build.status !== 0) {
      console.error("the build failed, so the tests were not run");
      return 1;
    }
  }

  mkdirSync(join(here, ".build"), { recursive: true });
  const jobs = Math.max(1, Number(process.env.BOOTWARD_TEST_JOBS ?? Math.min(2, cpus().length)));
  const start = Date.now();
  const outcomes = await runAll(files, jobs);
  console.log(summary(outcomes, Date.now() - start, buildMs));
  const total = (key: "pass" | "fail" | "skipped") => outcomes.reduce((n, o) => n + o[key], 0);
  // One plain closing line that any CI reader understands.
  console.log(`${total("pass")} passed, ${total("fail")} failed, ${total("skipped")} skipped`);
  return total("fail") > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
