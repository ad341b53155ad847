// `npm test`: build what the engine and end-to-end tests need, then run every test file with
// node's test runner, one file at a time (the machine has two cores and the QEMU tests want one).
// `npm test -- tpm cpio` runs only the files whose path contains one of the words.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { TOOL_PACKAGES, ensureTools } from "../initrd/host-tools.ts";

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

// Cheap, pure tests first so a broken unit shows up before the long QEMU runs.
const stages = ["unit", "tpm", "initrd", "engine", "e2e"];
const rank = (file: string) => {
  const stage = stages.findIndex((s) => file.startsWith(`test/${s}/`));
  return stage < 0 ? 0 : stage;
};

const files = findTests(join(here, "test"))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

if (files.length === 0) {
  console.error(`no test file matches ${filters.join(" ")}`);
  process.exit(2);
}

// The tests run real parts (swtpm, QEMU, GnuPG, tpm2-tools, oathtool, tmux …): as root the
// missing Debian packages are installed, otherwise the exact apt-get line is printed.
try {
  ensureTools(Object.keys(TOOL_PACKAGES));
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

if (process.env.BOOTWARD_SKIP_BUILD !== "1") {
  const build = spawnSync("npx", ["tsx", "build.ts", "--all-boards"], { cwd: here, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("the build failed, so the tests were not run");
    process.exit(1);
  }
}

const tap = join(here, ".build", "test-results.tap");
mkdirSync(dirname(tap), { recursive: true });
const run = spawnSync(
  process.execPath,
  [
    "--import", "tsx", "--test", "--test-concurrency=1",
    "--test-reporter=spec", "--test-reporter-destination=stdout",
    "--test-reporter=tap", `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: here, stdio: "inherit" },
);
// One plain closing line that any CI reader understands, taken from the TAP summary.
const summary = readFileSync(tap, "utf8");
const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(summary)?.[1] ?? 0);
console.log(`${count("pass")} passed, ${count("fail")} failed, ${count("skipped") + count("todo")} skipped`);
process.exit(run.status ?? 1);
