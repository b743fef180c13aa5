import { describe, expect, it } from "@jest/globals";
import { ApiException } from "@kubernetes/client-node";
import type { AccessRequestStatus } from "../../../../src/api/types.ts";
import { approvalStands, maybeLanded } from "../../../../src/operator/request/unknown-outcome.ts";
import { request } from "../fixtures.ts";

const DECIDED = Date.UTC(2026, 0, 1, 10);
const HOUR = 3_600_000;
const UID = "uid-1";

function sent(): AccessRequestStatus {
  return {
    phase: "Active",
    startTime: new Date(DECIDED).toISOString(),
    expiresAt: new Date(DECIDED + HOUR).toISOString(),
    approvalSignature: "sig",
  };
}

function fetchFailed(code: string): Error {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) });
}

function api(code: number): ApiException<unknown> {
  return new ApiException(code, "failed", {}, {});
}

describe("maybeLanded", () => {
  it.each([
    ["a reply timeout", fetchFailed("UND_ERR_HEADERS_TIMEOUT")],
    ["a body timeout", fetchFailed("UND_ERR_BODY_TIMEOUT")],
    ["a connection reset", fetchFailed("ECONNRESET")],
    ["a socket closed by the other side", fetchFailed("UND_ERR_SOCKET")],
    ["a pool dropped under the write", new TypeError("fetch failed", { cause: new Error("watch broke") })],
    ["a failure without a cause", new TypeError("fetch failed")],
    ["a 500", api(500)],
    ["a 502 from a proxy", api(502)],
    ["a 504 from the API server's timeout", api(504)],
  ])("%s may have landed", (_name, err) => {
    expect(maybeLanded(err)).toBe(true);
  });

  it.each([
    ["a connection refused", fetchFailed("ECONNREFUSED")],
    ["a name that does not resolve", fetchFailed("ENOTFOUND")],
    ["a connect timeout", fetchFailed("UND_ERR_CONNECT_TIMEOUT")],
    ["a 400", api(400)],
    ["a 403 from admission", api(403)],
    ["a 404", api(404)],
    ["a 409", api(409)],
    ["a 422", api(422)],
    ["a 429", api(429)],
  ])("%s did not", (_name, err) => {
    expect(maybeLanded(err)).toBe(false);
  });
});

describe("approvalStands", () => {
  const now = new Date(DECIDED + 60_000);

  it("the very approval, still granting", () => {
    expect(approvalStands(request(sent(), { uid: UID }), UID, sent(), now)).toBe(true);
  });

  it("written alone (Pending) counts the same: the approval is what landed", () => {
    const pending = { ...sent(), phase: "Pending" as const };
    expect(approvalStands(request(pending, { uid: UID }), UID, sent(), now)).toBe(true);
  });

  it.each([
    ["gone", undefined],
    ["another object of the name", request(sent(), { uid: "uid-2" })],
    ["no approval", request(undefined, { uid: UID })],
    ["another approval", request({ ...sent(), approvalSignature: "other" }, { uid: UID })],
    [
      "another startTime",
      request({ ...sent(), startTime: new Date(DECIDED + 1).toISOString() }, { uid: UID }),
    ],
    ["being deleted", request(sent(), { uid: UID, deletionTimestamp: new Date(DECIDED).toISOString() })],
  ])("not when the read shows %s", (_name, read) => {
    expect(approvalStands(read, UID, sent(), now)).toBe(false);
  });

  it("not when revoked", () => {
    const r = request(sent(), { uid: UID });
    r.spec.revoked = true;
    expect(approvalStands(r, UID, sent(), now)).toBe(false);
  });

  it("not once expired", () => {
    expect(approvalStands(request(sent(), { uid: UID }), UID, sent(), new Date(DECIDED + HOUR))).toBe(false);
  });
});
