// Long-running operations as Network answers them: the write returns an Azure-AsyncOperation URL
// (and Location for deletes); polling it says InProgress until the operation completes.
import { randomUUID } from "node:crypto";

export type OperationStatus = "InProgress" | "Succeeded" | "Failed";

export interface Operation {
  id: string;
  status: OperationStatus;
  subscriptionId: string;
  location: string;
  startTime: string;
  endTime?: string;
}

const KEEP_MS = 10 * 60 * 1000;

export class Operations {
  private readonly ops = new Map<string, Operation & { doneAt?: number }>();

  create(subscriptionId: string, location: string): Operation {
    const op: Operation = {
      id: randomUUID(),
      status: "InProgress",
      subscriptionId,
      location,
      startTime: new Date().toISOString(),
    };
    this.ops.set(op.id, op);
    return op;
  }

  complete(id: string, status: OperationStatus = "Succeeded"): void {
    const op = this.ops.get(id);
    if (op === undefined) return;
    op.status = status;
    op.endTime = new Date().toISOString();
    op.doneAt = Date.now();
    this.prune();
  }

  get(id: string): Operation | undefined {
    return this.ops.get(id.toLowerCase()) ?? this.ops.get(id);
  }

  /** Forgets finished operations after a while so the map does not grow without bound. */
  private prune(): void {
    if (this.ops.size < 10_000) return;
    const cutoff = Date.now() - KEEP_MS;
    for (const [id, op] of this.ops) if (op.doneAt !== undefined && op.doneAt < cutoff) this.ops.delete(id);
  }

  static urls(
    endpoint: string,
    op: Operation,
    apiVersion: string,
  ): { asyncOperation: string; location: string } {
    const base = `${endpoint}/subscriptions/${op.subscriptionId}/providers/Microsoft.Network/locations/${op.location}`;
    const q = `?api-version=${encodeURIComponent(apiVersion)}`;
    return {
      asyncOperation: `${base}/operations/${op.id}${q}`,
      location: `${base}/operationResults/${op.id}${q}`,
    };
  }
}
