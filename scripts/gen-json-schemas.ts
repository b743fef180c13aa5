// Rewrites schemas/ from crds/ (see src/gitops/schema/json-schema.ts). Run after editing a CRD:
// `node scripts/gen-json-schemas.ts`.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { crdJsonSchemas, renderSchema } from "../src/gitops/schema/json-schema.ts";
import { REPO_ROOT, loadCrds } from "../src/gitops/validate/crd-schema.ts";

const out = join(REPO_ROOT, "schemas");
rmSync(out, { recursive: true, force: true });
for (const s of crdJsonSchemas(loadCrds())) {
  mkdirSync(dirname(join(out, s.path)), { recursive: true });
  writeFileSync(join(out, s.path), renderSchema(s));
  process.stdout.write(`schemas/${s.path}\n`);
}
