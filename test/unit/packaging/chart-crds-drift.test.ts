// The chart renders the CRDs from charts/drawbridge/files/crds/, a copy of crds/ (the source of
// truth). This fails as soon as the two differ, with the command that brings them back in step.
import { describe, expect, test } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const source = join(root, "crds");
const copy = join(root, "charts/drawbridge/files/crds");
const SYNC = "rm -f charts/drawbridge/files/crds/*.yaml && cp crds/*.yaml charts/drawbridge/files/crds/";

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort();
}

describe("chart CRDs", () => {
  test("the chart has exactly the CRD files of crds/ (to resync: " + SYNC + ")", () => {
    expect(yamlFiles(source).length).toBeGreaterThan(0);
    expect(yamlFiles(copy)).toEqual(yamlFiles(source));
  });

  test.each(yamlFiles(source))("%s is byte-for-byte the same in the chart (to resync: " + SYNC + ")", (f) => {
    const same = readFileSync(join(copy, f)).equals(readFileSync(join(source, f)));
    expect({ file: f, sameAsCrdsDir: same }).toEqual({ file: f, sameAsCrdsDir: true });
  });
});
