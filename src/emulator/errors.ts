// ARM failures as the emulator answers them: an HTTP status and a CloudError body
// `{ error: { code, message, details? } }`, the shape every ARM resource provider returns.

export interface CloudErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export class ArmError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: CloudErrorDetail[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    opts: { details?: CloudErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ArmError";
    this.status = status;
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers ?? {};
  }

  body(): { error: { code: string; message: string; details?: CloudErrorDetail[] } } {
    const error: { code: string; message: string; details?: CloudErrorDetail[] } = {
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

export function badRequest(code: string, message: string): ArmError {
  return new ArmError(400, code, message);
}

export function notFound(kind: string, name: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${kind}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function nestedNotFound(code: string, message: string): ArmError {
  return new ArmError(404, code, message);
}
