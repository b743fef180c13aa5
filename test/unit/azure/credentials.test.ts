import { describe, expect, it } from "@jest/globals";
import { DefaultAzureCredential } from "@azure/identity";
import {
  createCredential,
  isAzureCloudEndpoint,
  LazyDefaultAzureCredential,
  StaticTokenCredential,
} from "../../../src/azure/credentials.ts";

describe("credentials", () => {
  it("uses a static token for the emulator and DefaultAzureCredential for Azure", async () => {
    const emu = createCredential({ armEndpoint: "https://127.0.0.1:8443" });
    expect(emu).toBeInstanceOf(StaticTokenCredential);
    expect((await emu.getToken("https://management.azure.com/.default"))?.token).toBe("drawbridge-emulator");
    expect(
      createCredential({ armEndpoint: "https://management.azure.com", armCaFile: "/tmp/ca.pem" }),
    ).toBeInstanceOf(StaticTokenCredential);
    const azure = createCredential({});
    expect(azure).toBeInstanceOf(LazyDefaultAzureCredential);
    if (!(azure instanceof LazyDefaultAzureCredential)) throw new Error("expected a lazy credential");
    expect(await azure.inner()).toBeInstanceOf(DefaultAzureCredential);
    const gov = createCredential({
      armEndpoint: "https://management.usgovcloudapi.net/",
      managedIdentityClientId: "11111111-1111-1111-1111-111111111111",
    });
    if (!(gov instanceof LazyDefaultAzureCredential)) throw new Error("expected a lazy credential");
    expect(await gov.inner()).toBeInstanceOf(DefaultAzureCredential);
  });

  it("recognises the Azure cloud ARM hosts only", () => {
    expect(isAzureCloudEndpoint("https://management.azure.com")).toBe(true);
    expect(isAzureCloudEndpoint("https://management.azure.com.evil.example")).toBe(false);
    expect(isAzureCloudEndpoint("not a url")).toBe(false);
  });

  it("refuses an empty static token", () => {
    expect(() => new StaticTokenCredential(" ")).toThrow(/must not be empty/);
  });
});
