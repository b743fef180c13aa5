// Polling long-running operations: .../locations/{loc}/operations/{id} answers the status body;
// .../operationResults/{id} answers 202 while running and 204 when done.
import { ArmError } from "../errors.ts";
import type { Reply, RequestContext } from "../http.ts";
import { Operations } from "../lro.ts";

function find(ctx: RequestContext, id: string): NonNullable<ReturnType<Operations["get"]>> {
  const op = ctx.core.ops.get(id);
  if (op === undefined) throw new ArmError(404, "OperationNotFound", `Operation ${id} was not found.`);
  return op;
}

export function getOperationStatus(ctx: RequestContext, id: string): Reply {
  const op = find(ctx, id);
  // AzureAsyncOperationResult: only status (and error when failed), as Network answers it.
  const body: Record<string, unknown> = { status: op.status };
  if (op.status === "Failed") body["error"] = { code: "OperationFailed", message: "The operation failed." };
  return { status: 200, body, headers: op.status === "InProgress" ? { "Retry-After": "1" } : {} };
}

export function getOperationResult(ctx: RequestContext, id: string): Reply {
  const op = find(ctx, id);
  if (op.status === "InProgress") {
    const urls = Operations.urls(ctx.core.endpoint, op, ctx.apiVersion);
    return { status: 202, headers: { Location: urls.location, "Retry-After": "1" } };
  }
  return { status: 204 };
}
