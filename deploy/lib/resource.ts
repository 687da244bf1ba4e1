// The shapes every target's output has: a Kubernetes resource, and the file it is written to. Ground for the
// renderers (deploy/render/), the validator and the writer, so that none of them depends on another.

export type Resource = Record<string, any> & {
  apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** A generated file: its path under the output folder, the resource it holds, and comment lines for it. */
export interface Output { path: string; resource: Resource; notes?: string[] }
