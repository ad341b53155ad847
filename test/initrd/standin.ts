// Builds the stand-in /init (test scaffolding, see standin-init.c) with musl-gcc, once per
// version of its source.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { toolPath } from "../../initrd/host-tools.ts";
import { buildDir, repoRoot } from "../../build/paths.ts";

export function buildStandinInit(): string {
  const source = join(repoRoot, "test", "initrd", "standin-init.c");
  const tag = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12);
  const out = join(buildDir, "test", `standin-init-${tag}`);
  if (existsSync(out)) return out;
  mkdirSync(join(buildDir, "test"), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  execFileSync(toolPath("musl-gcc"), ["-static", "-Os", "-s", "-o", tmp, source], { stdio: ["ignore", "ignore", "inherit"] });
  renameSync(tmp, out);
  return out;
}
