// Bundled for QuickJS by test/engine/ui-quickjs.test.ts: prints every component case,
// rendered by this engine, as one JSON object.
import "../../runtime/host/quickjs/shims.ts";
import { renderComponentCases } from "../unit/ui/component-cases.tsx";

console.log(JSON.stringify(renderComponentCases()));
