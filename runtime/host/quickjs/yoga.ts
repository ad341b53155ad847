// ink imports Yoga 3 (WebAssembly, top-level await); QuickJS gets Yoga 2's pure asm.js
// build instead. That build is CommonJS with `exports.default`, and esbuild's Node-style
// interop hands ESM importers the whole exports object, so unwrap `default` here.
import * as asmjs from "yoga-layout/asmjs-sync";
import type { Yoga as YogaModule } from "yoga-layout/asmjs-sync";

const loaded = (asmjs as unknown as { default: { default?: YogaModule } & YogaModule }).default;
const Yoga: YogaModule = loaded.default ?? loaded;
export default Yoga;
