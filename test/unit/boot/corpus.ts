// Reads the golden corpus (test/fixtures/boot/<distro>/boot/…) as the caller of
// scanBootEntries would: paths relative to the boot dir, text decoded as UTF-8.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BootFile } from "../../../runtime/boot/entries/index.ts";

export const fixtures = new URL("../../fixtures/boot/", import.meta.url).pathname;

export function distros(): string[] {
  return readdirSync(fixtures).filter((d) => statSync(join(fixtures, d)).isDirectory()).sort();
}

export function bootFiles(distro: string): BootFile[] {
  const files: BootFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, `${rel}/${name}`);
      else files.push({ path: `${rel}/${name}`, text: readFileSync(path, "utf8") });
    }
  };
  walk(join(fixtures, distro, "boot"), "");
  return files;
}

export function expected(distro: string): { media: boolean; entries: unknown[]; lines: string[] } {
  return JSON.parse(readFileSync(join(fixtures, distro, "expected.json"), "utf8"));
}

/** Every configuration text of the corpus, the seed of the fuzzers. */
export function corpusTexts(): { path: string; text: string }[] {
  return distros().flatMap((d) => bootFiles(d));
}
