// Who the API server says the caller is: a SelfSubjectReview (authentication.k8s.io/v1), what
// `kubectl auth whoami` asks. spec.requester is filled from it, never typed, so it always matches what
// the requester admission policy compares it with.
import type { AuthenticationV1Api } from "@kubernetes/client-node";

export interface Identity {
  username: string;
  groups: string[];
}

export async function whoami(auth: AuthenticationV1Api): Promise<Identity> {
  const review = await auth.createSelfSubjectReview({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the generated model class is a plain JSON shape
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  const user = review.status?.userInfo;
  if (user?.username === undefined || user.username === "") {
    throw new Error("the API server did not say who you are (its SelfSubjectReview answer has no username)");
  }
  return { username: user.username, groups: user.groups ?? [] };
}
