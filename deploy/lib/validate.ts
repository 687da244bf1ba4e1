// Validates generated resources: Istio kinds against the OpenAPI schema of their CRD (Istio's own CRDs, kept
// in deploy/schemas/istio-crds.yaml with their source), ASMFilterDeployment against a schema written from ASM's documented
// fields (deploy/schemas/asmfilterdeployment.schema.json), the OpenTelemetry Operator's Instrumentation against its
// CRD (deploy/schemas/otel-instrumentation-crd.yaml), Gateway API kinds against the Gateway API CRDs
// (deploy/schemas/gateway-api-crds.yaml), core Services against a minimal schema of the fields the ambient
// output writes (core kinds have no CRD). Unknown fields are errors, as with
// `kubectl apply` and its strict field validation. CEL rules (x-kubernetes-validations) are not evaluated.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { parseAllDocuments } from "yaml";
import type { Resource } from "./resource.ts";

export const ISTIO_CRDS = fileURLToPath(new URL("../schemas/istio-crds.yaml", import.meta.url));
export const OTEL_CRDS = fileURLToPath(new URL("../schemas/otel-instrumentation-crd.yaml", import.meta.url));
export const GATEWAY_API_CRDS = fileURLToPath(new URL("../schemas/gateway-api-crds.yaml", import.meta.url));
const ASM_SCHEMA = fileURLToPath(new URL("../schemas/asmfilterdeployment.schema.json", import.meta.url));

function readCrds(file: string): any[] {
  if (!existsSync(file)) return [];
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter((c) => c?.kind === "CustomResourceDefinition");
}

/** The propagators the operator's Instrumentation accepts (its CRD's enum), so that the spec is checked against the same list. */
export function otelPropagators(file = OTEL_CRDS): string[] {
  const v = readCrds(file)[0]?.spec.versions.find((x: any) => x.name === "v1alpha1");
  return v?.schema?.openAPIV3Schema?.properties?.spec?.properties?.propagators?.items?.enum ?? [];
}

/** Object schemas without preserve-unknown-fields get additionalProperties: false (strict field validation). */
function strict(schema: any): any {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === "properties" ? Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, strict(s)])) : strict(v);
  }
  if (out.type === "object" && out.properties && out.additionalProperties === undefined && !out["x-kubernetes-preserve-unknown-fields"]) {
    out.additionalProperties = false;
  }
  return out;
}

export class Validator {
  private validators = new Map<string, ValidateFunction>();

  constructor(crdsFile = ISTIO_CRDS, otelCrdsFile = OTEL_CRDS, gatewayCrdsFile = GATEWAY_API_CRDS) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    for (const f of ["int32", "int64", "uint32", "double", "float"]) ajv.addFormat(f, { type: "number", validate: () => true });
    for (const crd of [...readCrds(crdsFile), ...readCrds(otelCrdsFile), ...readCrds(gatewayCrdsFile)]) {
      for (const v of crd.spec.versions) {
        const schema = v.schema?.openAPIV3Schema;
        if (!schema) continue;
        const root = strict(schema);
        // metadata is Kubernetes' ObjectMeta, not part of the CRD schema: checked separately.
        root.properties = { ...root.properties, apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" } };
        this.validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(root));
      }
    }
    const asm = JSON.parse(readFileSync(ASM_SCHEMA, "utf8"));
    this.validators.set("istio.alibabacloud.com/v1beta1/ASMFilterDeployment", ajv.compile(asm));
    this.validators.set("v1/Service", ajv.compile(SERVICE_SCHEMA));
  }

  /** Whether schemas for Istio kinds are loaded. */
  get hasIstio(): boolean { return [...this.validators.keys()].some((k) => k.includes("istio.io")); }

  /** Whether the Gateway API CRDs are loaded. */
  get hasGatewayApi(): boolean { return this.validators.has("gateway.networking.k8s.io/v1/HTTPRoute"); }

  /** Whether the schema for the OpenTelemetry Operator's Instrumentation is loaded. */
  get hasOtel(): boolean { return this.validators.has("opentelemetry.io/v1alpha1/Instrumentation"); }

  /** Problems with one resource, as "path: message" strings; empty when valid. */
  check(resource: Resource): string[] {
    const problems: string[] = [];
    const name = resource.metadata?.name ?? "";
    if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) problems.push(`metadata.name: ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
    // A Service's name is a DNS-1035 label (it becomes a DNS name of its own).
    if (resource.apiVersion === "v1" && resource.kind === "Service" && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) problems.push(`metadata.name: ${JSON.stringify(name)} is not a DNS-1035 label (a Service name)`);
    const key = `${resource.apiVersion}/${resource.kind}`;
    const validate = this.validators.get(key);
    if (!validate) {
      problems.push(`no schema for ${key}`);
      return problems;
    }
    let subject = resource;
    if (resource.kind === "VirtualService" && resource.spec?.http?.some((r: any) => r.fallback)) {
      // ASM's `fallback` is not part of Istio's VirtualService: the one documented exception.
      subject = structuredClone(resource);
      for (const r of subject.spec.http) delete r.fallback;
    }
    if (!validate(subject)) {
      for (const e of validate.errors ?? []) {
        const extra = e.keyword === "additionalProperties" ? ` (${(e.params as any).additionalProperty})` : e.keyword === "enum" ? ` (${(e.params as any).allowedValues.join(", ")})` : "";
        problems.push(`${e.instancePath || "/"}: ${e.message}${extra}`);
      }
    }
    return problems;
  }
}

/** The fields of a core v1 Service that the ambient output writes, with Kubernetes' own constraints on them. */
const SERVICE_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  additionalProperties: false,
  properties: {
    apiVersion: { const: "v1" },
    kind: { const: "Service" },
    metadata: {
      type: "object",
      required: ["name", "namespace"],
      properties: { name: { type: "string" }, namespace: { type: "string" }, labels: { type: "object", additionalProperties: { type: "string", maxLength: 63 } } },
    },
    spec: {
      type: "object",
      required: ["selector", "ports"],
      additionalProperties: false,
      properties: {
        selector: { type: "object", minProperties: 1, additionalProperties: { type: "string", maxLength: 63 } },
        ports: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            required: ["port"],
            additionalProperties: false,
            properties: {
              name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$" },
              port: { type: "integer", minimum: 1, maximum: 65535 },
              targetPort: { type: "integer", minimum: 1, maximum: 65535 },
              protocol: { enum: ["TCP", "UDP", "SCTP"] },
              appProtocol: { type: "string" },
            },
          },
        },
      },
    },
  },
} as const;
