// `npm run fuzz [-- --count N] [--seed S]`: the long fuzz runs (boot-entry parsers, the
// keybox reader, TPM responses and event logs), N inputs per parser (default 1 000 000).
// Each run is a child process whose progress lines are passed through; a child that prints
// nothing for STALL_MS is taken to hang on its current chunk and killed. Exits 1 if any run
// fails or hangs.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const STALL_MS = 180_000;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const count = option("--count", "1000000");
const seed = option("--seed", "1");
if (!/^[1-9][0-9]*$/.test(count) || !/^[0-9]+$/.test(seed)) {
  console.error("usage: npm run fuzz -- [--count N] [--seed S]");
  process.exit(2);
}

const runs: { name: string; script: string[] }[] = [
  { name: "boot-entry parsers", script: ["bench/fuzz-boot.ts", "--count", count, "--seed", seed] },
  { name: "keybox reader", script: ["bench/fuzz-keybox.ts", "--count", count, "--seed", seed] },
  { name: "TPM responses and event logs", script: ["bench/fuzz-tpm.ts", count, seed] },
];

/** Resolves with the exit status, or "hang" when the child went silent for STALL_MS. */
function watch(script: string[]): Promise<number | "hang"> {
  return new Promise((resolve) => {
    // Its own process group, so a hung child and the tsx process above it go together.
    const child = spawn(process.execPath, ["--import", "tsx", ...script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let last = "";
    let timer: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        console.error(`no progress for ${STALL_MS / 1000} s after: ${last}`);
        process.kill(-child.pid!, "SIGKILL");
        resolve("hang");
      }, STALL_MS);
    };
    for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      createInterface({ input: stream }).on("line", (line) => {
        last = line;
        out.write(`${line}\n`);
        arm();
      });
    }
    arm();
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

let failed = false;
for (const run of runs) {
  console.log(`== ${run.name}: ${count} inputs each`);
  const result = await watch(run.script);
  if (result !== 0) {
    console.error(`== ${run.name}: ${result === "hang" ? "HUNG (killed)" : `FAILED (exit ${result})`}`);
    failed = true;
  }
}
console.log(failed ? "fuzz: FAILED" : "fuzz: every input gave a result or a typed error");
process.exit(failed ? 1 : 0);
