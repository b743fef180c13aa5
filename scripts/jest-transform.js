// Jest transformer: strips TypeScript types with Node's own stripper, the same one that runs the
// operator, so tests execute exactly the code production executes.
import { stripTypeScriptTypes } from "node:module";

export default {
  process(sourceText, sourcePath) {
    if (!sourcePath.endsWith(".ts")) return { code: sourceText };
    return { code: stripTypeScriptTypes(sourceText, { mode: "strip" }) };
  },
};
