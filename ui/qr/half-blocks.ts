// A QR symbol as text, two module rows per line with half blocks. The glyphs draw the
// LIGHT modules, so on a light-on-dark console (serial terminals, the Linux console) the
// code appears dark on light, as scanners expect; the component also sets the colours
// explicitly where colour is available.
import type { QrCode } from "./encode.ts";

export const QUIET_ZONE = 4;

/** Lines of "█▀▄ " characters: the symbol plus a light quiet zone of `quiet` modules. */
export function qrToHalfBlocks(code: QrCode, quiet = QUIET_ZONE): string[] {
  const span = code.size + 2 * quiet;
  const light = (row: number, col: number): boolean => {
    const r = row - quiet;
    const c = col - quiet;
    if (r < 0 || c < 0 || r >= code.size || c >= code.size) return true;
    return !code.modules[r]![c];
  };
  const lines: string[] = [];
  for (let row = 0; row < span; row += 2) {
    let line = "";
    for (let col = 0; col < span; col++) {
      const top = light(row, col);
      // An odd last row pairs with one more row of quiet zone.
      const bottom = row + 1 >= span || light(row + 1, col);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    lines.push(line);
  }
  return lines;
}
