import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout root: build/ sits directly under it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const cacheDir = join(repoRoot, ".cache");
export const buildDir = join(repoRoot, ".build");
export const distDir = join(repoRoot, "dist");
