// Command dispatch shared by the source CLI and the image's entry (src/cli/dispatch.ts).
import { afterEach, beforeEach, describe, expect, jest, test } from "@jest/globals";
import { dispatch, usage } from "../../../src/cli/dispatch.ts";
import type { Commands } from "../../../src/cli/dispatch.ts";

let out = "";
let err = "";
beforeEach(() => {
  out = err = "";
  jest.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  jest.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
});
afterEach(() => {
  jest.restoreAllMocks();
});

const ran: string[][] = [];
const COMMANDS: Commands = {
  run: {
    summary: "run the operator",
    load: () => Promise.resolve({ run: (args: string[]) => (ran.push(args), Promise.resolve(7)) }),
  },
};

describe("dispatch", () => {
  test("runs the named command with the remaining arguments and returns its exit code", async () => {
    expect(await dispatch(COMMANDS, ["run", "--x=1"])).toBe(7);
    expect(ran.at(-1)).toEqual(["--x=1"]);
  });

  test("help prints the usage (exit 0); no command prints it too (exit 2)", async () => {
    expect(await dispatch(COMMANDS, ["help"])).toBe(0);
    expect(out).toBe(usage(COMMANDS));
    expect(out).toContain("  run        run the operator");
    expect(await dispatch(COMMANDS, [])).toBe(2);
  });

  test("an unknown command prints the usage on stderr (exit 2); a refused one its own message", async () => {
    expect(await dispatch(COMMANDS, ["nope"])).toBe(2);
    expect(err).toContain('drawbridge: unknown command "nope"');
    expect(err).toContain("commands:");
    err = "";
    const refuse = (name: string): string | undefined => (name === "bench" ? "not here" : undefined);
    expect(await dispatch(COMMANDS, ["bench"], refuse)).toBe(2);
    expect(err).toBe("drawbridge: not here\n");
    // A refusal never shadows a real command.
    expect(await dispatch(COMMANDS, ["run"], () => "refused")).toBe(7);
  });
});
